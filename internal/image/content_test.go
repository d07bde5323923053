package image

import (
	"os"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func TestContentStorePutVerifiesDigest(t *testing.T) {
	c, err := newContentStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	data := []byte("hello")
	d := digest.FromBytes(data)
	if err := c.Put(d, data); err != nil {
		t.Fatal(err)
	}
	got, err := c.Read(d)
	if err != nil || string(got) != "hello" {
		t.Fatalf("read back %q %v", got, err)
	}
	bad := digest.FromString("other")
	if err := c.Put(bad, data); !errdefs.Is(err, errdefs.ErrDataLoss) {
		t.Fatalf("mismatch: want DataLoss, got %v", err)
	}
	if c.Has(bad) {
		t.Fatal("mismatched blob became visible")
	}
	entries, _ := os.ReadDir(c.ingestDir())
	if len(entries) != 0 {
		t.Fatalf("ingest not cleaned: %v", entries)
	}
	if _, err := c.Read(bad); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("want NotFound, got %v", err)
	}
	if err := c.Remove(d); err != nil || c.Has(d) {
		t.Fatalf("remove: %v", err)
	}
	if err := c.Remove(d); err != nil {
		t.Fatalf("second remove: %v", err)
	}
}

func TestContentStoreClearsStaleIngest(t *testing.T) {
	dir := t.TempDir()
	c, _ := newContentStore(dir)
	w, err := c.NewWriter(digest.FromString("x"))
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("partial"))
	// Simulate a crash: the writer is never committed nor aborted.
	c2, err := newContentStore(dir)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(c2.ingestDir())
	if len(entries) != 0 {
		t.Fatalf("stale ingest kept: %v", entries)
	}
}
