package integration

import (
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestPodSandboxMetrics: ListMetricDescriptors describes every metric
// ListPodSandboxMetrics returns (cAdvisor names, as many label values as
// label keys); a busy loop shows in container_cpu_usage_seconds_total, 50
// MB in container_memory_working_set_bytes, the pod's traffic in
// container_network_*.
func TestPodSandboxMetrics(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "metrics")
	podID := runPod(t, b, pod)
	burner := runContainer(t, b, podID, pod, ctrConfig("burner", img, "sh", "-c", "while :; do :; done"))
	filler := runContainer(t, b, podID, pod, ctrConfig("filler", img, "sh", "-c", "head -c 52428800 /dev/zero > /dev/shm/fill; sleep 1000"))
	stopped := podConfig(t, "metrics-stopped")
	stoppedID := runPod(t, b, stopped)
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: stoppedID}); err != nil {
		t.Fatal(err)
	}
	// Until the busy loop has burnt over a second of CPU (a loaded machine
	// may take longer than a second of wall time).
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		st, err := b.RT.ContainerStats(ctxT(t), &runtime.ContainerStatsRequest{ContainerId: burner})
		if err == nil && st.Stats.Cpu != nil && st.Stats.Cpu.UsageCoreNanoSeconds.Value > 1.2e9 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the busy loop burnt no second of CPU in 15 s: %v %v", st, err)
		}
	}

	descs, err := b.RT.ListMetricDescriptors(ctxT(t), &runtime.ListMetricDescriptorsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]int{}
	for _, d := range descs.Descriptors {
		if _, dup := keys[d.Name]; dup || d.Help == "" || len(d.LabelKeys) < 3 {
			t.Fatalf("descriptor %v: duplicate, no help or too few labels", d)
		}
		keys[d.Name] = len(d.LabelKeys)
	}
	resp, err := b.RT.ListPodSandboxMetrics(ctxT(t), &runtime.ListPodSandboxMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.PodMetrics) != 1 || resp.PodMetrics[0].PodSandboxId != podID {
		t.Fatalf("metrics of %d pods, want the ready one only", len(resp.PodMetrics))
	}
	pm := resp.PodMetrics[0]
	check := func(ms []*runtime.Metric) map[string]*runtime.Metric {
		byName := map[string]*runtime.Metric{}
		for _, m := range ms {
			n, ok := keys[m.Name]
			if !ok || n != len(m.LabelValues) || m.Timestamp == 0 || m.Value == nil {
				t.Fatalf("metric %v: not described, or %d label values for %d keys", m, len(m.LabelValues), n)
			}
			byName[m.Name] = m
		}
		return byName
	}
	net := check(pm.Metrics)
	// Labels: id, name, image, container, pod, namespace (cAdvisor's on
	// /metrics/cadvisor), then the metric's own.
	if rx := net["container_network_receive_packets_total"]; rx == nil || rx.LabelValues[6] != "eth0" || rx.LabelValues[0] != podID ||
		rx.LabelValues[4] != pod.Metadata.Name || rx.LabelValues[5] != pod.Metadata.Namespace {
		t.Fatalf("pod network metric: %v", rx)
	}
	if len(pm.ContainerMetrics) != 2 {
		t.Fatalf("metrics of %d containers", len(pm.ContainerMetrics))
	}
	for _, cm := range pm.ContainerMetrics {
		m := check(cm.Metrics)
		switch cm.ContainerId {
		case burner:
			if cpu := m["container_cpu_usage_seconds_total"]; cpu.Value.Value < 1 || cpu.MetricType != runtime.MetricType_COUNTER || cpu.LabelValues[1] != "burner" ||
				cpu.LabelValues[3] != "burner" || cpu.LabelValues[4] != pod.Metadata.Name || cpu.LabelValues[5] != "default" || cpu.LabelValues[6] != "total" {
				t.Fatalf("busy loop past a second of CPU: %v", cpu)
			}
		case filler:
			if ws := m["container_memory_working_set_bytes"]; ws.Value.Value < 50<<20 || ws.MetricType != runtime.MetricType_GAUGE {
				t.Fatalf("50 MB in shm: %v", ws)
			}
		default:
			t.Fatalf("metrics of an unknown container %s", cm.ContainerId)
		}
		if p := m["container_processes"]; p.Value.Value < 1 {
			t.Fatalf("processes: %v", p)
		}
	}
}
