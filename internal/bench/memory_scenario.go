package bench

import (
	"context"
	"time"
)

// MemoryFigures is what N idle pods cost.
type MemoryFigures struct {
	Pods            int     `json:"pods"`
	DaemonIdle      Memory  `json:"daemonIdle"`
	DaemonWithPods  Memory  `json:"daemonWithPods"`
	MonitorsPerPod  Memory  `json:"monitorsPerPod"`
	MonitorsTotal   Memory  `json:"monitorsTotal"`
	MonitorProcsPer float64 `json:"monitorProcessesPerPod"`
	// IdleCPU is the CPU time the daemon and the monitors used while the
	// pods sat idle for IdleWindow.
	IdleWindow  time.Duration `json:"idleWindow,omitempty"`
	IdleCPU     time.Duration `json:"idleCPU,omitempty"`
	IdleCPUDaem time.Duration `json:"idleCPUDaemon,omitempty"`
}

// MeasureMemory starts pods pods with one container each, measures the
// daemon and the monitors that appeared, and removes the pods.
func MeasureMemory(ctx context.Context, t *Target, cfg *Config, pods int, idle time.Duration) (*MemoryFigures, error) {
	daemon := Processes(t.Daemon)
	baseline := map[int]bool{}
	for _, pid := range Processes(t.Monitors...) {
		baseline[pid] = true
	}
	f := &MemoryFigures{Pods: pods, DaemonIdle: settledMemory(exactly(daemon, t.Daemon))}
	var ids []string
	defer func() {
		for _, id := range ids {
			removePod(ctx, t, id)
		}
	}()
	for i := 0; i < pods; i++ {
		podID, pc, err := runPod(ctx, t, cfg)
		if err != nil {
			return nil, err
		}
		ids = append(ids, podID)
		if _, err := startContainer(ctx, t, podID, pc, sleeper...); err != nil {
			return nil, err
		}
	}
	// Read once the daemon has given back what the burst of starts took
	// (berthd trims 2 s after its last call; a read at 2 s raced it and
	// showed 16-25 MB from run to run); the monitors have settled by then.
	f.DaemonWithPods = settledMemory(exactly(daemon, t.Daemon))
	var monitors []int
	for _, pid := range Processes(t.Monitors...) {
		if !baseline[pid] {
			monitors = append(monitors, pid)
		}
	}
	f.MonitorsTotal = MemoryOf(monitors)
	f.MonitorsPerPod = Memory{RSS: f.MonitorsTotal.RSS / uint64(pods), PSS: f.MonitorsTotal.PSS / uint64(pods)}
	f.MonitorProcsPer = float64(len(monitors)) / float64(pods)
	if idle > 0 {
		d := exactly(daemon, t.Daemon)
		all := append(append([]int(nil), d...), monitors...)
		before, beforeD := CPUTime(all), CPUTime(d)
		time.Sleep(idle)
		f.IdleWindow, f.IdleCPU, f.IdleCPUDaem = idle, CPUTime(all)-before, CPUTime(d)-beforeD
	}
	return f, nil
}

// settledMemory reads the memory of pids once it has stopped falling: a
// daemon gives back what a burst of calls took some time after it (berthd
// trims its heap 2 s after its last call), so a read right after the
// latency scenarios would show the burst, not the idle daemon. It waits
// at least 3 s and at most 30 s.
func settledMemory(pids []int) Memory {
	start := time.Now()
	last := MemoryOf(pids)
	for time.Since(start) < 30*time.Second {
		time.Sleep(time.Second)
		m := MemoryOf(pids)
		steady := m.RSS+m.RSS/100 >= last.RSS // fell by less than 1%
		last = m
		if steady && time.Since(start) >= 3*time.Second {
			break
		}
	}
	return last
}

// exactly keeps the pids whose argv[0] base name is name (containerd, not
// containerd-shim).
func exactly(pids []int, name string) []int {
	var out []int
	for _, pid := range pids {
		if procName(pid) == name {
			out = append(out, pid)
		}
	}
	return out
}
