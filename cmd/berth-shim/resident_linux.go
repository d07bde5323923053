package main

import (
	"bufio"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// trimResident drops the shim's read-only executable pages from its page
// tables and turns off fault-around for them. Start-up touches most of the
// binary (and fault-around maps the neighbours of every touched page);
// an idle monitor needs a small part of it. Dropped pages are clean
// copies of the file, so they fault back in one by one when used.
// Writable mappings (data, heap, stacks) are never touched.
func trimResident() {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return
	}
	f, err := os.Open("/proc/self/maps")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 6 || fields[5] != exe || strings.Contains(fields[1], "w") {
			continue
		}
		start, end, ok := parseRange(fields[0])
		if !ok {
			continue
		}
		unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_RANDOM)
		unix.Syscall(unix.SYS_MADVISE, start, end-start, unix.MADV_DONTNEED)
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

// idleTrimDelay is how long the shim waits after its last request before
// giving memory back.
const idleTrimDelay = 2 * time.Second

// trimIdle returns what an idle monitor does not need: the free heap to the
// kernel, and the binary's pages to the page cache.
func trimIdle() {
	debug.FreeOSMemory()
	trimResident()
}
