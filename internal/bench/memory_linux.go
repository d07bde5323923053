package bench

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Memory is resident memory, in bytes.
type Memory struct {
	RSS uint64 `json:"rss"`
	PSS uint64 `json:"pss"`
}

// Processes finds the PIDs whose command line matches any of patterns
// (substrings of argv[0]'s base name).
func Processes(patterns ...string) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || len(cmdline) == 0 {
			continue
		}
		argv0 := filepath.Base(strings.SplitN(string(cmdline), "\x00", 2)[0])
		for _, p := range patterns {
			if strings.HasPrefix(argv0, p) {
				out = append(out, pid)
				break
			}
		}
	}
	return out
}

// MemoryOf sums RSS and PSS of pids (from smaps_rollup).
func MemoryOf(pids []int) Memory {
	var m Memory
	for _, pid := range pids {
		data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "smaps_rollup"))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			switch f[0] {
			case "Rss:":
				m.RSS += kb << 10
			case "Pss:":
				m.PSS += kb << 10
			}
		}
	}
	return m
}

func procName(pid int) string {
	cmdline, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "cmdline"))
	if err != nil {
		return ""
	}
	return filepath.Base(strings.SplitN(string(cmdline), "\x00", 2)[0])
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat times (100 on Linux).
const clockTicks = 100

// CPUTime sums the user and system CPU time of pids.
func CPUTime(pids []int) time.Duration {
	var ticks uint64
	for _, pid := range pids {
		data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err != nil {
			continue
		}
		s := string(data)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 12 {
			u, _ := strconv.ParseUint(fields[11], 10, 64)
			st, _ := strconv.ParseUint(fields[12], 10, 64)
			ticks += u + st
		}
	}
	return time.Duration(ticks) * time.Second / clockTicks
}
