package bench

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Targets the project set itself (docs/benchmarks.md).
const (
	TargetLatencyRatio   = 0.5         // berth p50 <= 0.5x containerd
	TargetMonitorRSS     = 2000 * 1000 // bytes per pod (issue 17)
	TargetMonitorPSS     = 1000 * 1000 // bytes per pod
	TargetDaemonRSSRatio = 0.5         // berthd RSS <= 0.5x containerd
)

// WriteTable prints the report for people, with ratios of the first target
// to the second and the targets beside them.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "figure")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "\t%s p50\tp95\tp99\tn", t)
	}
	if len(r.Targets) == 2 {
		fmt.Fprintf(tw, "\tratio p50\ttarget")
	}
	fmt.Fprintln(tw)
	for _, f := range r.Figures {
		fmt.Fprintf(tw, "%s", f.Name)
		for _, t := range r.Targets {
			s := f.Stats[t]
			fmt.Fprintf(tw, "\t%s\t%s\t%s\t%d", ms(s.P50), ms(s.P95), ms(s.P99), s.Count)
		}
		if len(r.Targets) == 2 {
			a, b := f.Stats[r.Targets[0]].P50, f.Stats[r.Targets[1]].P50
			v := ""
			if f.Target > 0 {
				v = verdict(float64(a), float64(b), f.Target)
			}
			fmt.Fprintf(tw, "\t%s\t%s", ratio(float64(a), float64(b)), v)
		}
		fmt.Fprintln(tw)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	return r.writeMemory(w)
}

func (r *Report) writeMemory(w io.Writer) error {
	if len(r.Memory) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\nmemory\tpods\tdaemon idle RSS (settled)\tdaemon RSS with pods (settled)\tmonitor RSS/pod\tmonitor PSS/pod\tmonitors/pod\tidle CPU (daemon)")
	for _, t := range r.Targets {
		m := r.Memory[t]
		if m == nil {
			continue
		}
		cpu := "-"
		if m.IdleWindow > 0 {
			cpu = fmt.Sprintf("%.2fs (%.2fs) in %s", m.IdleCPU.Seconds(), m.IdleCPUDaem.Seconds(), m.IdleWindow)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%.2f\t%s\n", t, m.Pods, mb(m.DaemonIdle.RSS), mb(m.DaemonWithPods.RSS),
			mb(m.MonitorsPerPod.RSS), mb(m.MonitorsPerPod.PSS), m.MonitorProcsPer, cpu)
	}
	if first := r.Memory[r.Targets[0]]; first != nil {
		fmt.Fprintf(tw, "target\t\t\t%s\t<= %s\t<= %s\n", daemonTarget(r), mb(TargetMonitorRSS), mb(TargetMonitorPSS))
	}
	return tw.Flush()
}

func daemonTarget(r *Report) string {
	if len(r.Targets) != 2 || r.Memory[r.Targets[1]] == nil {
		return ""
	}
	a, b := r.Memory[r.Targets[0]].DaemonWithPods.RSS, r.Memory[r.Targets[1]].DaemonWithPods.RSS
	return fmt.Sprintf("ratio %s %s", ratio(float64(a), float64(b)), verdict(float64(a), float64(b), TargetDaemonRSSRatio))
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

func mb(b uint64) string { return fmt.Sprintf("%.2fMB", float64(b)/1e6) }

func ratio(a, b float64) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2fx", a/b)
}

func verdict(a, b, target float64) string {
	if b == 0 {
		return ""
	}
	if a/b <= target {
		return fmt.Sprintf("<= %.2gx met", target)
	}
	return fmt.Sprintf("<= %.2gx MISSED", target)
}
