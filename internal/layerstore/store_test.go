package layerstore

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	digest "github.com/opencontainers/go-digest"
)

func TestChainIDs(t *testing.T) {
	a, b := digest.FromString("a"), digest.FromString("b")
	got := ChainIDs([]digest.Digest{a, b})
	if got[0] != a || got[1] != digest.FromString(a.String()+" "+b.String()) {
		t.Fatalf("chain ids %v", got)
	}
}

func TestLayerStoreCreateIsAllOrNothing(t *testing.T) {
	dir := t.TempDir()
	s, err := New(dir)
	if err != nil {
		t.Fatal(err)
	}
	chain := digest.FromString("layer")
	boom := errors.New("boom")
	err = s.Create(chain, func(fs string) error {
		os.WriteFile(filepath.Join(fs, "half"), nil, 0o644)
		return boom
	})
	if !errors.Is(err, boom) || s.Has(chain) {
		t.Fatalf("failed create: %v, has=%v", err, s.Has(chain))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("failed create left %v", entries)
	}
	if err := s.Create(chain, func(fs string) error { return os.WriteFile(filepath.Join(fs, "f"), nil, 0o644) }); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.FSDir(chain), "f")); err != nil {
		t.Fatal(err)
	}
	list, _ := s.List()
	if len(list) != 1 || list[0] != chain {
		t.Fatalf("list %v", list)
	}
	// A crash leaves a temp dir: reopening removes it.
	os.Mkdir(filepath.Join(dir, layerTmpPrefix+"x"), 0o755)
	if _, err := New(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, layerTmpPrefix+"x")); !os.IsNotExist(err) {
		t.Fatal("stale temp layer kept")
	}
	if err := s.Remove(chain); err != nil || s.Has(chain) {
		t.Fatalf("remove: %v", err)
	}
	if err := s.Remove(chain); err != nil {
		t.Fatalf("second remove: %v", err)
	}
}
