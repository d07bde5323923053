// Package memtrim gives back memory a long-running berth process holds
// but does not use: its free heap, and the clean pages of its own binary
// that start-up touched (fault-around maps their neighbours too). Dropped
// binary pages are clean copies of the file; they fault back in one by one
// when used. Writable mappings (data, heap, stacks) are never touched.
package memtrim

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// dropBinaryPages unmaps the process's read-only executable pages from its
// page tables (MADV_DONTNEED) and asks for no read-ahead on them. The
// mappings are read first and dropped last, one system call after the
// other: code that runs after a drop faults its pages (and 64 KB around
// each) back in.
func dropBinaryPages() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	var ranges [8][2]uintptr
	n := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() && n < len(ranges) {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		if start, end, ok := parseRange(fields[0]); ok {
			ranges[n] = [2]uintptr{start, end - start}
			n++
		}
	}
	f.Close()
	for _, r := range ranges[:n] {
		unix.RawSyscall(unix.SYS_MADVISE, r[0], r[1], unix.MADV_RANDOM)
		unix.RawSyscall(unix.SYS_MADVISE, r[0], r[1], unix.MADV_DONTNEED)
	}
}

func parseRange(s string) (uintptr, uintptr, bool) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, false
	}
	start, err1 := strconv.ParseUint(a, 16, 64)
	end, err2 := strconv.ParseUint(b, 16, 64)
	return uintptr(start), uintptr(end), err1 == nil && err2 == nil && end > start
}

// Trim returns the free heap to the kernel and the binary's pages to the
// page cache.
func Trim() {
	debug.FreeOSMemory()
	dropBinaryPages()
}

// Every trims now and then every interval until stop is closed.
func Every(interval time.Duration, stop <-chan struct{}) {
	Trim()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			Trim()
		}
	}
}

// Idle trims once no activity was reported for delay, after each burst.
type Idle struct {
	mu    sync.Mutex
	timer *time.Timer
	delay time.Duration
}

// NewIdle arms an idle trimmer.
func NewIdle(delay time.Duration) *Idle {
	return &Idle{timer: time.AfterFunc(delay, Trim), delay: delay}
}

// Touch reports activity: the trim waits another delay.
func (i *Idle) Touch() {
	i.mu.Lock()
	i.timer.Reset(i.delay)
	i.mu.Unlock()
}

// Stop disarms the trimmer.
func (i *Idle) Stop() { i.timer.Stop() }
