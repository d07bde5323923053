package image

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// blobSource is a layer blob as it comes off the network. It remembers
// whether reading it failed (a reset or cut connection, a stall), so that
// a tar or gzip error caused by a lost connection is told apart from
// corrupt content.
type blobSource struct {
	r io.Reader

	mu  sync.Mutex
	err error
}

func (b *blobSource) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		b.mu.Lock()
		if b.err == nil {
			b.err = err
		}
		b.mu.Unlock()
	}
	return n, err
}

// failure says what went wrong on the network side, if anything
// (Unavailable: worth another try).
func (b *blobSource) failure(host string, layer fmt.Stringer) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil || errors.Is(b.err, context.Canceled) || isVerifyError(b.err) {
		return nil // no network trouble, or the content itself is wrong
	}
	var stall *stallError
	if errors.As(b.err, &stall) {
		return fmt.Errorf("layer %s: %v: %w", layer, stall, errdefs.ErrUnavailable)
	}
	return fmt.Errorf("registry %s: layer %s: connection lost mid-blob: %v: %w", host, layer, b.err, errdefs.ErrUnavailable)
}

// isVerifyError tells a digest or size mismatch found by
// go-containerregistry's verifying reader (its errors are not typed).
func isVerifyError(err error) bool {
	return strings.Contains(err.Error(), "error verifying")
}
