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

	// The rest feeds ListPodSandboxMetrics (cAdvisor's names).
	CPUUserNanos, CPUSystemNanos    uint64
	CFSPeriods, CFSThrottledPeriods uint64
	CFSThrottledNanos               uint64
	Cache, Swap, MappedFile         uint64
	MaxUsage, Failcnt, OOMKills     uint64
	MemoryLimit, ProcessLimit       uint64
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
		if c := st.CPU; c != nil {
			s.CPUUsageNanos, s.CPUUserNanos, s.CPUSystemNanos = c.UsageUsec*1000, c.UserUsec*1000, c.SystemUsec*1000
			s.CFSPeriods, s.CFSThrottledPeriods, s.CFSThrottledNanos = c.NrPeriods, c.NrThrottled, c.ThrottledUsec*1000
		}
		if mem := st.Memory; mem != nil {
			s.MemoryUsage, s.RSS, s.PageFaults, s.MajorFaults = mem.Usage, mem.Anon, mem.Pgfault, mem.Pgmajfault
			s.WorkingSet = workingSet(mem.Usage, mem.InactiveFile)
			s.Cache, s.Swap, s.MappedFile, s.MaxUsage = mem.File, mem.SwapUsage, mem.FileMapped, mem.MaxUsage
			s.MemoryLimit = noLimit(mem.UsageLimit)
		}
		if ev := st.MemoryEvents; ev != nil {
			s.OOMKills, s.Failcnt = ev.OomKill, ev.Max
		}
		if st.Pids != nil {
			s.Processes, s.ProcessLimit = st.Pids.Current, noLimit(st.Pids.Limit)
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
	if c := st.CPU; c != nil {
		if u := c.Usage; u != nil {
			s.CPUUsageNanos, s.CPUUserNanos, s.CPUSystemNanos = u.Total, u.User, u.Kernel
		}
		if th := c.Throttling; th != nil {
			s.CFSPeriods, s.CFSThrottledPeriods, s.CFSThrottledNanos = th.Periods, th.ThrottledPeriods, th.ThrottledTime
		}
	}
	if mem := st.Memory; mem != nil {
		if mem.Usage != nil {
			s.MemoryUsage, s.MaxUsage, s.Failcnt = mem.Usage.Usage, mem.Usage.Max, mem.Usage.Failcnt
			s.MemoryLimit = noLimit(mem.Usage.Limit)
		}
		if mem.Swap != nil && mem.Usage != nil && mem.Swap.Usage > mem.Usage.Usage {
			s.Swap = mem.Swap.Usage - mem.Usage.Usage // v1's memsw counts memory and swap
		}
		s.RSS, s.PageFaults, s.MajorFaults = mem.TotalRSS, mem.TotalPgFault, mem.TotalPgMajFault
		s.Cache, s.MappedFile = mem.TotalCache, mem.TotalMappedFile
		s.WorkingSet = workingSet(s.MemoryUsage, mem.TotalInactiveFile)
	}
	if oc := st.MemoryOomControl; oc != nil {
		s.OOMKills = oc.OomKill
	}
	if st.Pids != nil {
		s.Processes, s.ProcessLimit = st.Pids.Current, noLimit(st.Pids.Limit)
	}
	return s, nil
}

// noLimit maps the kernels' "unlimited" values (max, or a page-rounded
// int64 max on v1) to 0, as cAdvisor reports no limit.
func noLimit(v uint64) uint64 {
	if v >= 1<<62 {
		return 0
	}
	return v
}

func workingSet(usage, inactiveFile uint64) uint64 {
	if inactiveFile > usage {
		return 0
	}
	return usage - inactiveFile
}

// rates turns successive CPU readings into nano cores per object.
type rates struct {
	mu   sync.Mutex
	last map[string]*Sample
}

// nanoCores is the CPU rate of id since its previous sample (0 on the first).
func (r *rates) nanoCores(id string, s *Sample) uint64 {
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
func (r *rates) Forget(id string) {
	r.mu.Lock()
	delete(r.last, id)
	r.mu.Unlock()
}

// Interface is one network interface's counters.
type Interface struct {
	Name                                    string
	RxBytes, RxPackets, RxErrors, RxDropped uint64
	TxBytes, TxPackets, TxErrors, TxDropped uint64
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
		// /proc/net/dev: rx bytes packets errs drop fifo frame compressed
		// multicast, then tx bytes packets errs drop ...
		out = append(out, Interface{Name: strings.TrimSpace(name),
			RxBytes: n(0), RxPackets: n(1), RxErrors: n(2), RxDropped: n(3),
			TxBytes: n(8), TxPackets: n(9), TxErrors: n(10), TxDropped: n(11)})
	}
	return out, sc.Err()
}
