// Package storetest gives unit tests a real, empty metadata store in a
// temporary directory, closed when the test ends.
package storetest

import (
	"path/filepath"
	"testing"

	"github.com/berth-runtime/berth/internal/store"
)

// Open returns an empty store in dir (t.TempDir() when dir is "").
func Open(t testing.TB, dir string) *store.DB {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	db, err := store.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
