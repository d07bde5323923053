package image

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/store/storetest"
)

func newTestService(t *testing.T) *Service {
	t.Helper()
	dir := t.TempDir()
	db := storetest.Open(t, dir)
	s, err := NewService(Options{Dir: filepath.Join(dir, "images"), DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Tag adds a name (moving it from another image), Untag takes one away and
// leaves the image; both survive a reload from the store.
func TestTagAndUntag(t *testing.T) {
	s := newTestService(t)
	idA := ID("sha256:" + strings.Repeat("a", 64))
	idB := ID("sha256:" + strings.Repeat("b", 64))
	a, _ := ParseReference("example.test/a:1")
	b, _ := ParseReference("example.test/b:1")
	if _, err := s.commit(a, &Record{ID: idA, RepoTags: []string{a.String()}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.commit(b, &Record{ID: idB, RepoTags: []string{b.String()}}); err != nil {
		t.Fatal(err)
	}
	rec, err := s.Tag("example.test/a:1", "example.test/b:1") // moves b:1 to image a
	if err != nil || len(rec.RepoTags) != 2 {
		t.Fatalf("tag: %+v %v", rec, err)
	}
	if got, _ := s.Get("example.test/b:1"); got == nil || got.ID != idA {
		t.Fatalf("b:1 is %+v, want image a", got)
	}
	if got, _ := s.Get(string(idB)); got == nil || len(got.RepoTags) != 0 {
		t.Fatalf("image b keeps the moved tag: %+v", got)
	}
	if _, err := s.Tag("example.test/a:1", "example.test/c@sha256:"+"0123456789012345678901234567890123456789012345678901234567890123"); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("a digest as target: %v", err)
	}
	if _, err := s.Tag("example.test/none:1", "example.test/d:1"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("an unknown source: %v", err)
	}
	rec, err = s.Untag("example.test/b:1")
	if err != nil || len(rec.RepoTags) != 1 || rec.RepoTags[0] != a.String() {
		t.Fatalf("untag: %+v %v", rec, err)
	}
	if _, err := s.Get("example.test/b:1"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("the untagged name still resolves: %v", err)
	}
	if _, err := s.Untag("example.test/b:1"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("untag twice: %v", err)
	}
	again, err := NewService(Options{Dir: s.dir, DB: s.db})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := again.Get("example.test/a:1"); err != nil || len(got.RepoTags) != 1 {
		t.Fatalf("after a reload: %+v %v", got, err)
	}
}
