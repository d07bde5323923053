package image

import (
	"io"
	"sync"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// ProgressEvent tells how one pull advances.
type ProgressEvent struct {
	Layer    digest.Digest // empty on the final event
	Current  int64         // bytes of the layer fetched so far
	Total    int64         // the layer's size
	Done     bool          // the layer is stored
	Cached   bool          // the layer was already stored: nothing fetched
	Finished bool          // the pull ended; Err says how
	Err      string
}

// progressHub fans pull events out to subscribers, by reference. A slow
// subscriber misses intermediate events; it never slows a pull.
type progressHub struct {
	mu   sync.Mutex
	subs map[string]map[chan ProgressEvent]struct{}
}

const progressInterval = 100 * time.Millisecond

// SubscribeProgress delivers the events of pulls of ref until cancel is called.
func (s *Service) SubscribeProgress(ref Reference) (<-chan ProgressEvent, func()) {
	h := &s.progress
	ch := make(chan ProgressEvent, 64)
	key := ref.String()
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan ProgressEvent]struct{}{}
	}
	if h.subs[key] == nil {
		h.subs[key] = map[chan ProgressEvent]struct{}{}
	}
	h.subs[key][ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		delete(h.subs[key], ch)
		if len(h.subs[key]) == 0 {
			delete(h.subs, key)
		}
		h.mu.Unlock()
	}
}

func (h *progressHub) publish(ref string, ev ProgressEvent) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs[ref] {
		select {
		case ch <- ev:
		default: // the subscriber is behind; later events carry totals
		}
	}
}

// progressReader counts the bytes of one layer as they are read.
type progressReader struct {
	r    io.Reader
	hub  *progressHub
	ref  string
	ev   ProgressEvent
	last time.Time
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.ev.Current += int64(n)
	if now := time.Now(); now.Sub(p.last) >= progressInterval {
		p.last = now
		p.hub.publish(p.ref, p.ev)
	}
	return n, err
}
