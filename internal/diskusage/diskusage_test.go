package diskusage

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWalkCountsHardLinksOnce(t *testing.T) {
	dir := t.TempDir()
	data := make([]byte, 64<<10)
	for i := range data {
		data[i] = byte(i) | 1 // not sparse
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	one, err := Walk(dir)
	if err != nil {
		t.Fatal(err)
	}
	if one.Inodes != 2 || one.Bytes < 64<<10 {
		t.Fatalf("a dir with one 64 KiB file: %+v", one)
	}
	if err := os.Link(filepath.Join(dir, "a"), filepath.Join(dir, "b")); err != nil {
		t.Fatal(err)
	}
	linked, _ := Walk(dir)
	if linked != one {
		t.Fatalf("a hard link counted again: %+v, was %+v", linked, one)
	}
	os.Mkdir(filepath.Join(dir, "sub"), 0o700)
	os.WriteFile(filepath.Join(dir, "sub", "c"), data, 0o600)
	more, _ := Walk(dir)
	if more.Inodes != 4 || more.Bytes < 2*(64<<10) {
		t.Fatalf("with a second file in a subdir: %+v", more)
	}
	if _, err := Walk(filepath.Join(dir, "missing")); err == nil {
		t.Fatal("a missing dir walked without error")
	}
}
