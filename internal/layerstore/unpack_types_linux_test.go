package layerstore

import (
	"archive/tar"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// A GNU sparse entry (tar --sparse) is unpacked with its data, holes as
// zeros: it used to be skipped, and the pull succeeded with the file gone.
func TestUnpackGNUSparseFile(t *testing.T) {
	if _, err := exec.LookPath("tar"); err != nil {
		t.Skip("GNU tar makes the sparse archive")
	}
	src := t.TempDir()
	f, _ := os.Create(filepath.Join(src, "sparse"))
	f.WriteAt([]byte("head"), 0)
	f.WriteAt([]byte("tail"), 1<<20)
	f.Close()
	archive := filepath.Join(t.TempDir(), "l.tar")
	if out, err := exec.Command("tar", "--sparse", "--format=gnu", "-C", src, "-cf", archive, "sparse").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	data, _ := os.ReadFile(archive)
	if hdr, err := tar.NewReader(bytes.NewReader(data)).Next(); err != nil || hdr.Typeflag != tar.TypeGNUSparse {
		t.Fatalf("the archive has no GNU sparse entry: %v %v", hdr, err)
	}
	dir := t.TempDir()
	if err := Unpack(bytes.NewReader(data), dir); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join(dir, "sparse"))
	want := make([]byte, 1<<20+4)
	copy(want, "head")
	copy(want[1<<20:], "tail")
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("sparse file: %d bytes %v, want %d", len(got), err, len(want))
	}
}

// An entry type berth cannot unpack fails the layer, naming the entry.
func TestUnpackRefusesUnknownEntryTypes(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "weird", Typeflag: 'V', Mode: 0o644, Format: tar.FormatGNU})
	tw.Close()
	err := Unpack(&buf, t.TempDir())
	if !errdefs.Is(err, errdefs.ErrInvalidArgument) || !bytes.Contains([]byte(err.Error()), []byte("weird")) {
		t.Fatalf("unknown type: %v", err)
	}
}
