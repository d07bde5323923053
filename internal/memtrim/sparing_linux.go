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
// Sparing collects after a burst that allocated at least Idle bytes,
// and during one that allocated Busy.
type Sparing struct {
	Idle uint64
	Busy uint64

	mu    sync.Mutex
	since uint64 // allocations counted at the last collection
	seen  uint64 // collections counted then
}

var sparingMetrics = []string{"/gc/heap/allocs:bytes", "/gc/cycles/total:gc-cycles"}

// allocated is the bytes allocated since the last collection (by the
// runtime's own, under the memory limit, too).
func (s *Sparing) allocated() uint64 {
	samples := []metrics.Sample{{Name: sparingMetrics[0]}, {Name: sparingMetrics[1]}}
	metrics.Read(samples)
	allocs, cycles := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	if cycles != s.seen { // the runtime collected: count from here
		s.since, s.seen = allocs, cycles
	}
	return allocs - s.since
}

func (s *Sparing) collected() {
	samples := []metrics.Sample{{Name: sparingMetrics[0]}, {Name: sparingMetrics[1]}}
	metrics.Read(samples)
	s.since, s.seen = samples[0].Value.Uint64(), samples[1].Value.Uint64()
}

// Trim is the idle trim: it collects and returns the free heap if at
// least Idle bytes were allocated since the last collection, and drops
// the binary's pages.
func (s *Sparing) Trim() {
	s.mu.Lock()
	if s.allocated() >= s.Idle {
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
