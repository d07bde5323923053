// Package stats reads the resource usage of containers and pods from their
// cgroups (v1, hybrid and v2, through containerd's cgroups library) and
// their network namespaces.
package stats

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
)

// Sample is one reading of a cgroup.
type Sample struct {
	Time          time.Time
	CPUUsageNanos uint64
	MemoryUsage   uint64
	WorkingSet    uint64 // usage less inactive file cache, as the kubelet computes it
	RSS           uint64
	PageFaults    uint64
	MajorFaults   uint64
	Processes     uint64
}

// Cgroup reads the cgroup at path (cgroupfs layout).
func Cgroup(path string) (*Sample, error) {
	s := &Sample{Time: time.Now()}
	if cgroups.Mode() == cgroups.Unified {
		m, err := cgroup2.Load(path)
		if err != nil {
			return nil, err
		}
		st, err := m.Stat()
		if err != nil {
			return nil, fmt.Errorf("cgroup %s: %w", path, err)
		}
		if st.CPU != nil {
			s.CPUUsageNanos = st.CPU.UsageUsec * 1000
		}
		if mem := st.Memory; mem != nil {
			s.MemoryUsage, s.RSS, s.PageFaults, s.MajorFaults = mem.Usage, mem.Anon, mem.Pgfault, mem.Pgmajfault
			s.WorkingSet = workingSet(mem.Usage, mem.InactiveFile)
		}
		if st.Pids != nil {
			s.Processes = st.Pids.Current
		}
		return s, nil
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(path))
	if err != nil {
		return nil, err
	}
	st, err := cg.Stat(cgroup1.IgnoreNotExist)
	if err != nil {
		return nil, fmt.Errorf("cgroup %s: %w", path, err)
	}
	if st.CPU != nil && st.CPU.Usage != nil {
		s.CPUUsageNanos = st.CPU.Usage.Total
	}
	if mem := st.Memory; mem != nil {
		if mem.Usage != nil {
			s.MemoryUsage = mem.Usage.Usage
		}
		s.RSS, s.PageFaults, s.MajorFaults = mem.TotalRSS, mem.TotalPgFault, mem.TotalPgMajFault
		s.WorkingSet = workingSet(s.MemoryUsage, mem.TotalInactiveFile)
	}
	if st.Pids != nil {
		s.Processes = st.Pids.Current
	}
	return s, nil
}

func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}

// Rates turns successive CPU readings into nano cores per object.
type Rates struct {
	mu   sync.Mutex
	last map[string]*Sample
}

// NanoCores is the CPU rate of id since its previous sample (0 on the first).
func (r *Rates) NanoCores(id string, s *Sample) uint64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.last == nil {
		r.last = map[string]*Sample{}
	}
	prev := r.last[id]
	r.last[id] = s
	if prev == nil || !s.Time.After(prev.Time) || s.CPUUsageNanos < prev.CPUUsageNanos {
		return 0
	}
	return uint64(float64(s.CPUUsageNanos-prev.CPUUsageNanos) / s.Time.Sub(prev.Time).Seconds())
}

// Forget drops the history of a removed object.
func (r *Rates) Forget(id string) {
	r.mu.Lock()
	delete(r.last, id)
	r.mu.Unlock()
}

// Interface is one network interface's counters.
type Interface struct {
	Name                                 string
	RxBytes, RxErrors, TxBytes, TxErrors uint64
}

// NetDev reads the interfaces of the network namespace pid lives in.
func NetDev(pid int) ([]Interface, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/net/dev")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Interface
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fields := strings.Fields(rest)
		if len(fields) < 16 {
			continue
		}
		n := func(i int) uint64 { v, _ := strconv.ParseUint(fields[i], 10, 64); return v }
		out = append(out, Interface{Name: strings.TrimSpace(name), RxBytes: n(0), RxErrors: n(2), TxBytes: n(8), TxErrors: n(10)})
	}
	return out, sc.Err()
}
