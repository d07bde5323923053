package handlerprobe

import (
	"context"
	"sync"
)

// Set probes every handler once, at berthd's start beside recovery (berthd
// waits for it before it serves), and hands out the reports.
type Set struct {
	mu      sync.Mutex
	done    map[string]chan struct{}
	reports map[string]Report
}

// Start probes each handler (by name) at once, or takes its report from
// the cache an earlier start in this boot left in dir.
func Start(ctx context.Context, handlers map[string]Handler, dir, pauseBinary, cgroupParent string, minOOMScoreAdj int) *Set {
	s := &Set{done: map[string]chan struct{}{}, reports: map[string]Report{}}
	for name, h := range handlers {
		done := make(chan struct{})
		s.done[name] = done
		go func() {
			sweep(ctx, h) // what a crash cut off in an earlier probe
			r, ok := loadCached(dir, name, h)
			if !ok {
				r = Probe(ctx, h, dir, pauseBinary, cgroupParent, minOOMScoreAdj)
				storeCached(dir, name, h, r)
			}
			s.mu.Lock()
			s.reports[name] = r
			s.mu.Unlock()
			close(done)
		}()
	}
	return s
}

// Wait returns when every probe is done (berthd waits before it exits,
// so that no probe container outlives it).
func (s *Set) Wait() {
	if s == nil {
		return
	}
	for _, done := range s.done {
		<-done
	}
}

// Report returns the handler's report once its probe is done; ok is false
// for a handler that was not probed.
func (s *Set) Report(name string) (r Report, ok bool) {
	if s == nil {
		return Report{Ready: true}, false
	}
	done, ok := s.done[name]
	if !ok {
		return Report{}, false
	}
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reports[name], true
}
