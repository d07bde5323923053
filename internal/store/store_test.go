package store

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
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

// TestConcurrentUpdatesShareCommits: 200 concurrent updates, among them
// one that fails and one that panics, all return; every good one is on
// disk, the two bad ones left nothing and got their own errors, and the
// updates took fewer commits than there were updates.
func TestConcurrentUpdatesShareCommits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 200)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = db.Update(func(tx *Tx) error {
				if err := tx.Put(Containers, fmt.Sprint(i), rec{fmt.Sprint(i)}); err != nil {
					return err
				}
				switch i {
				case 50:
					return boom
				case 60:
					panic("bad update")
				}
				return nil
			})
		}()
	}
	wg.Wait()
	if n := db.Commits(); n >= 200 {
		t.Errorf("200 concurrent updates took %d commits", n)
	} else {
		t.Logf("200 concurrent updates in %d commits", n)
	}
	for i, err := range errs {
		switch {
		case i == 50 && !errors.Is(err, boom), i == 60 && (err == nil || !strings.Contains(err.Error(), "bad update")):
			t.Errorf("update %d: %v", i, err)
		case i != 50 && i != 60 && err != nil:
			t.Errorf("update %d: %v", i, err)
		}
	}
	db.Close()
	db, err = Open(path) // what is on disk
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	got := map[string]bool{}
	if err := LoadAll(db, Containers, func(k string, _ *rec) { got[k] = true }); err != nil {
		t.Fatal(err)
	}
	if len(got) != 198 || got["50"] || got["60"] || !got["0"] || !got["199"] {
		t.Fatalf("%d records on disk (want 198, without 50 and 60)", len(got))
	}
}
