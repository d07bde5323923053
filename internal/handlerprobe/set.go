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

// Options are what every probe shares.
type Options struct {
	// Dir holds the probes' scratch bundles and the cached reports.
	Dir string
	// PauseBinary is the probe container's process, and the process that
	// holds the user namespace of the idmapped-mount probe.
	PauseBinary  string
	CgroupParent string
	// MinOOMScoreAdj is the lowest oom_score_adj berthd may set.
	MinOOMScoreAdj int
	// LayerDir is where container filesystems live: a user namespace needs
	// idmapped mounts of it.
	LayerDir string
	// StateDir holds the containers' bundles, which a user namespace's
	// root must reach: every dir above it must be searchable by others.
	StateDir string
}

// Start probes each handler (by name) at once, or takes its report from
// the cache an earlier start in this boot left in opts.Dir.
func Start(ctx context.Context, handlers map[string]Handler, opts Options) *Set {
	s := &Set{done: map[string]chan struct{}{}, reports: map[string]Report{}}
	for name, h := range handlers {
		done := make(chan struct{})
		s.done[name] = done
		go func() {
			sweep(ctx, h) // what a crash cut off in an earlier probe
			r, ok := loadCached(opts.Dir, name, h)
			if !ok {
				r = Probe(ctx, h, opts)
				storeCached(opts.Dir, name, h, r)
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
