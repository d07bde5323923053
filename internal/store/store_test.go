package store

import (
	"errors"
	"path/filepath"
	"testing"
)

type rec struct{ Name string }

func TestPutGetDeleteAndAtomicity(t *testing.T) {
	db, err := Open(filepath.Join(t.TempDir(), "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *Tx) error { return tx.Put(Images, "a", rec{"A"}) }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err = db.Update(func(tx *Tx) error {
		if err := tx.Put(Images, "b", rec{"B"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("want boom, got %v", err)
	}
	got := map[string]string{}
	if err := LoadAll(db, Images, func(k string, v *rec) { got[k] = v.Name }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got["a"] != "A" {
		t.Fatalf("failed transaction leaked or lost records: %v", got)
	}
	err = db.View(func(tx *Tx) error {
		var r rec
		return tx.Get(Images, "b", &r)
	})
	if !errors.Is(err, ErrNoRecord) {
		t.Fatalf("want ErrNoRecord, got %v", err)
	}
	if err := db.Update(func(tx *Tx) error { return tx.Delete(Images, "a") }); err != nil {
		t.Fatal(err)
	}
	got = map[string]string{}
	_ = LoadAll(db, Images, func(k string, v *rec) { got[k] = v.Name })
	if len(got) != 0 {
		t.Fatalf("delete left %v", got)
	}
}
