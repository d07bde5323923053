package memtrim

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// Sparing collects garbage only when the process made some, for a small
// process that is mostly idle (berth-shim: one per pod). The Go runtime
// otherwise collects every two minutes whatever the heap does, and each
// collection leaves it holding more: its mark-bit arenas (64 KB each,
// cleared whenever reused, never given back) came to 0.2-0.4 MB per shim,
// a third of what an idle shim holds. The process runs with the
// collector off (SetGCPercent(-1)) and a memory limit as the backstop;
// Sparing collects after a burst once the garbage outweighs what the
// collection costs: First bytes before the process's first collection
// (the arenas it will take), Idle after it (they are paid); and during a
// burst that allocated Busy.
type Sparing struct {
	First uint64
	Idle  uint64
	Busy  uint64

	mu    sync.Mutex
	since uint64 // allocations counted at the last collection
	seen  uint64 // collections counted then
	// samples are kept under mu: Check runs on every request, and a slice
	// made per read was garbage of its own.
	samples [2]metrics.Sample
	// counts reads the bytes allocated and the collections so far (the
	// runtime's metrics unless a test sets it).
	counts func() (allocs, cycles uint64)
}

// read is called under mu.
func (s *Sparing) read() (allocs, cycles uint64) {
	if s.counts != nil {
		return s.counts()
	}
	if s.samples[0].Name == "" {
		s.samples[0].Name, s.samples[1].Name = "/gc/heap/allocs:bytes", "/gc/cycles/total:gc-cycles"
	}
	metrics.Read(s.samples[:])
	return s.samples[0].Value.Uint64(), s.samples[1].Value.Uint64()
}

// allocated is the bytes allocated since the last collection (by the
// runtime's own, under the memory limit, too).
func (s *Sparing) allocated() uint64 {
	allocs, cycles := s.read()
	if cycles != s.seen { // the runtime collected: count from here
		s.since, s.seen = allocs, cycles
	}
	return allocs - s.since
}

func (s *Sparing) collected() { s.since, s.seen = s.read() }

// idleDue tells whether the idle trim collects now.
func (s *Sparing) idleDue() bool {
	garbage, limit := s.allocated(), s.Idle
	if s.seen == 0 {
		limit = s.First
	}
	return garbage >= limit
}

// Trim is the idle trim: it collects and returns the free heap if at
// least First (before any collection) or Idle bytes were allocated since
// the last collection, and drops the binary's pages.
func (s *Sparing) Trim() {
	s.mu.Lock()
	if s.idleDue() {
		debug.FreeOSMemory()
		s.collected()
	}
	s.mu.Unlock()
	dropBinaryPages()
}

// Check is called on activity: it collects if at least Busy bytes were
// allocated since the last collection (a burst with no pause for Trim).
func (s *Sparing) Check() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.allocated() >= s.Busy {
		runtime.GC()
		s.collected()
	}
}
