package memtrim

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
)

func gcCycles() uint64 {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

var sink [][]byte

// garbage allocates n bytes that are dropped at once.
func garbage(n int) {
	for ; n > 0; n -= 4096 {
		sink = append(sink, make([]byte, 4096))
	}
	sink = nil
}

// With the collector off, Sparing collects only after enough garbage: the
// idle trim at Idle bytes, the busy check at Busy, and each counts from
// the last collection, its own or the runtime's.
func TestSparingCollectsOnlyAfterGarbage(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	runtime.GC()
	s := &Sparing{First: 256 << 10, Idle: 256 << 10, Busy: 1 << 20}
	s.Trim() // the first one starts the count
	before := gcCycles()
	collections := func(want uint64, after string) {
		t.Helper()
		if n := gcCycles() - before; n != want {
			t.Fatalf("%s: %d collections in all, want %d", after, n, want)
		}
	}
	garbage(64 << 10)
	s.Trim()
	s.Check()
	collections(0, "64 KB of garbage")
	garbage(256 << 10)
	s.Check()
	collections(0, "320 KB of garbage, busy check at 1 MB")
	s.Trim()
	collections(1, "320 KB of garbage, idle trim at 256 KB")
	s.Trim()
	collections(1, "a trim right after a collection")
	garbage(1 << 20)
	s.Check()
	collections(2, "1 MB of garbage, busy check at 1 MB")
	garbage(200 << 10)
	runtime.GC() // the runtime's own collection restarts the count
	garbage(100 << 10)
	s.Trim()
	collections(3, "100 KB since the runtime collected (the runtime's collection only)")
}

// Before the process's first collection the idle trim waits for First
// bytes of garbage (the collection's arenas would cost more than less
// garbage), after it for Idle.
func TestSparingWaitsLongerBeforeTheFirstCollection(t *testing.T) {
	var allocs, cycles uint64
	s := &Sparing{First: 400, Idle: 100, Busy: 1 << 20, counts: func() (uint64, uint64) { return allocs, cycles }}
	trim := func() bool { // Trim, with the collection counted instead of made
		if !s.idleDue() {
			return false
		}
		cycles++
		s.collected()
		return true
	}
	allocs = 300
	if trim() {
		t.Fatal("300 bytes before any collection, First 400: collected")
	}
	allocs = 450
	if !trim() {
		t.Fatal("450 bytes before any collection, First 400: not collected")
	}
	allocs += 150
	if !trim() {
		t.Fatal("150 bytes after a collection, Idle 100: not collected")
	}
	allocs += 50
	if trim() {
		t.Fatal("50 bytes after a collection, Idle 100: collected")
	}
}

// Check runs on every shim request: reading the counts allocates nothing.
func TestSparingCheckAllocatesNothing(t *testing.T) {
	s := &Sparing{First: 1 << 30, Idle: 1 << 30, Busy: 1 << 30}
	s.Check()
	if n := testing.AllocsPerRun(100, s.Check); n != 0 {
		t.Fatalf("Check allocated %v times", n)
	}
}
