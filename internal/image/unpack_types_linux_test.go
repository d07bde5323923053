package image

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"syscall"
	"testing"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/layerstore"
)

// A header that claims more data than the archive holds is corrupt
// content (DataLoss naming the layer), not an unknown error.
func TestTruncatedTarIsDataLoss(t *testing.T) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	tw.WriteHeader(&tar.Header{Name: "f", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20})
	tw.Write(make([]byte, 1000))
	err := layerstore.Unpack(bytes.NewReader(buf.Bytes()), t.TempDir())
	layer := digest.FromString("l")
	if got := classifyUnpack(err, layer); !errdefs.Is(got, errdefs.ErrDataLoss) || !bytes.Contains([]byte(got.Error()), []byte(layer.String())) {
		t.Fatalf("truncated tar: %v -> %v", err, got)
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("truncated tar: %v", err)
	}
}

func TestUnpackErrorClasses(t *testing.T) {
	layer := digest.FromString("l")
	for _, c := range []struct {
		err   error
		class error
	}{
		{&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, errdefs.ErrResourceExhausted},
		{errdefs.InvalidArgument("path %q leaves the layer", "../x"), errdefs.ErrInvalidArgument},
		{errors.New("gzip: invalid header"), errdefs.ErrDataLoss},
	} {
		if got := classifyUnpack(c.err, layer); !errdefs.Is(got, c.class) {
			t.Errorf("%v: %v, want %v", c.err, got, c.class)
		}
	}
	// The host's own failures keep no image class.
	if got := classifyUnpack(&os.PathError{Op: "open", Path: "x", Err: syscall.EACCES}, layer); errdefs.Classed(got) {
		t.Errorf("EACCES classed: %v", got)
	}
	// A full disk is never an unreachable registry.
	if got := classify(classifyUnpack(&os.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}, layer), "r"); errdefs.Is(got, errdefs.ErrUnavailable) {
		t.Errorf("ENOSPC became unavailable: %v", got)
	}
}
