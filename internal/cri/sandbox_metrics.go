package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/stats"
)

// ListMetricDescriptors describes the metrics of ListPodSandboxMetrics:
// cAdvisor's names, which the kubelet serves on /metrics/cadvisor when it
// takes pod metrics from the runtime.
func (s *Server) ListMetricDescriptors(context.Context, *runtime.ListMetricDescriptorsRequest) (*runtime.ListMetricDescriptorsResponse, error) {
	return &runtime.ListMetricDescriptorsResponse{Descriptors: metricDescriptors()}, nil
}

// ListPodSandboxMetrics reports every ready pod's network metrics and its
// running containers' cgroup metrics.
func (s *Server) ListPodSandboxMetrics(context.Context, *runtime.ListPodSandboxMetricsRequest) (*runtime.ListPodSandboxMetricsResponse, error) {
	byPod := map[string][]*container.Container{}
	for _, c := range s.containers.List() {
		byPod[c.PodID] = append(byPod[c.PodID], c)
	}
	out := &runtime.ListPodSandboxMetricsResponse{PodMetrics: []*runtime.PodSandboxMetrics{}}
	for _, sb := range s.pods.List() {
		if sb.State != pod.StateReady {
			continue
		}
		pm := &runtime.PodSandboxMetrics{PodSandboxId: sb.ID, Metrics: []*runtime.Metric{}, ContainerMetrics: []*runtime.ContainerMetrics{}}
		pid := sb.InfraPid
		for _, c := range byPod[sb.ID] {
			if c.State != container.StateRunning {
				continue
			}
			if pid == 0 {
				pid = c.Pid
			}
			if cm := s.containerMetrics(sb, c); cm != nil {
				pm.ContainerMetrics = append(pm.ContainerMetrics, cm)
			}
		}
		if pid > 0 && !sb.HostNetwork() {
			pm.Metrics = podNetworkMetrics(sb, pid)
		}
		out.PodMetrics = append(out.PodMetrics, pm)
	}
	return out, nil
}

func (s *Server) containerMetrics(sb *pod.Sandbox, c *container.Container) *runtime.ContainerMetrics {
	sample, err := stats.Cgroup(c.Cgroup)
	if err != nil {
		return nil // exited meanwhile
	}
	layer := s.stats.WritableLayer(c.ID, c.UpperDir())
	in := metricInput{sample: sample, c: c, layer: layer.Bytes, logLoss: s.containers.LogLoss(c)}
	md := sb.Config().GetMetadata()
	name := c.Config().GetMetadata().GetName()
	base := []string{c.ID, name, c.ImageName, name, md.GetName(), md.GetNamespace()}
	cm := &runtime.ContainerMetrics{ContainerId: c.ID}
	ts := sample.Time.UnixNano()
	for _, m := range containerMetrics {
		for _, v := range m.values(in) {
			cm.Metrics = append(cm.Metrics, &runtime.Metric{Name: m.name, Timestamp: ts, MetricType: m.kind,
				LabelValues: append(append([]string{}, base...), v.labels...), Value: &runtime.UInt64Value{Value: v.value}})
		}
	}
	return cm
}

func podNetworkMetrics(sb *pod.Sandbox, pid int) []*runtime.Metric {
	ifaces, err := stats.NetDev(pid)
	if err != nil {
		return []*runtime.Metric{}
	}
	ts := time.Now().UnixNano()
	md := sb.Config().GetMetadata()
	out := []*runtime.Metric{}
	for _, i := range ifaces {
		if i.Name == "lo" {
			continue
		}
		for _, m := range podMetrics {
			out = append(out, &runtime.Metric{Name: m.name, Timestamp: ts, MetricType: counter,
				LabelValues: []string{sb.ID, "POD", "", "", md.GetName(), md.GetNamespace(), i.Name}, Value: &runtime.UInt64Value{Value: m.value(i)}})
		}
	}
	return out
}
