package image

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// stallError is a registry exchange that received nothing for too long.
type stallError struct {
	host, path string
	after      time.Duration
}

func (e *stallError) Error() string {
	return fmt.Sprintf("registry %s: %s: no data for %s (image.pull_progress_timeout)", e.host, e.path, e.after)
}

// stallTransport cuts a registry exchange (waiting for the answer, or
// between two reads of its body) that receives nothing for stall:
// containerd's image_pull_progress_timeout, for manifests, configs and
// layers alike.
type stallTransport struct {
	next  http.RoundTripper
	stall time.Duration
}

func (t *stallTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithCancel(req.Context())
	w := &stallWatch{cancel: cancel, err: &stallError{host: req.URL.Host, path: req.URL.Path, after: t.stall}}
	w.timer = time.AfterFunc(t.stall, w.fire)
	resp, err := t.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		w.timer.Stop()
		cancel()
		if w.fired() {
			return nil, w.err
		}
		return nil, err
	}
	w.timer.Reset(t.stall)
	resp.Body = &stallBody{ReadCloser: resp.Body, w: w, stall: t.stall}
	return resp, nil
}

type stallWatch struct {
	timer  *time.Timer
	cancel context.CancelFunc
	err    *stallError

	mu    sync.Mutex
	fires bool
}

func (w *stallWatch) fire() {
	w.mu.Lock()
	w.fires = true
	w.mu.Unlock()
	w.cancel()
}

func (w *stallWatch) fired() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.fires
}

type stallBody struct {
	io.ReadCloser
	w     *stallWatch
	stall time.Duration
}

func (b *stallBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if n > 0 {
		b.w.timer.Reset(b.stall)
	}
	if err != nil && err != io.EOF && b.w.fired() {
		err = b.w.err
	}
	return n, err
}

func (b *stallBody) Close() error {
	b.w.timer.Stop()
	err := b.ReadCloser.Close()
	b.w.cancel()
	return err
}
