package cri

import (
	"context"
	"strings"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/stats"
)

// PodSandboxStats reports a pod's usage: its cgroup, its network, its containers.
func (s *Server) PodSandboxStats(_ context.Context, req *runtime.PodSandboxStatsRequest) (*runtime.PodSandboxStatsResponse, error) {
	sb, err := s.pods.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	return &runtime.PodSandboxStatsResponse{Stats: s.podStats(sb)}, nil
}

// ListPodSandboxStats reports the usage of the pods a filter selects.
func (s *Server) ListPodSandboxStats(_ context.Context, req *runtime.ListPodSandboxStatsRequest) (*runtime.ListPodSandboxStatsResponse, error) {
	f := req.GetFilter()
	out := []*runtime.PodSandboxStats{}
	for _, sb := range s.pods.List() {
		if f.GetId() != "" && !strings.HasPrefix(sb.ID, f.GetId()) || !labelsMatch(sb.Config().GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, s.podStats(sb))
	}
	return &runtime.ListPodSandboxStatsResponse{Stats: out}, nil
}

func (s *Server) podStats(sb *pod.Sandbox) *runtime.PodSandboxStats {
	cfg := sb.Config()
	linux := &runtime.LinuxPodSandboxStats{}
	if sb.State == pod.StateReady {
		if x, nanoCores, err := s.stats.Cgroup(stats.PodKey(sb.ID), sb.Cgroup); err == nil {
			linux.Cpu, linux.Memory = cpuMemory(x, nanoCores)
			linux.Process = &runtime.ProcessUsage{Timestamp: x.Time.UnixNano(), ProcessCount: &runtime.UInt64Value{Value: x.Processes}}
		}
	}
	var pid int
	for _, c := range s.containers.List() {
		if c.PodID != sb.ID {
			continue
		}
		linux.Containers = append(linux.Containers, s.containerStats(c))
		if c.State == container.StateRunning && c.Pid > 0 {
			pid = c.Pid
		}
	}
	if pid == 0 {
		pid = sb.InfraPid
	}
	if pid > 0 && !sb.HostNetwork() {
		linux.Network = networkUsage(pid)
	}
	return &runtime.PodSandboxStats{
		Attributes: &runtime.PodSandboxAttributes{Id: sb.ID, Metadata: cfg.GetMetadata(), Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations()},
		Linux:      linux,
	}
}

// networkUsage reads the pod's interfaces from a process inside it.
func networkUsage(pid int) *runtime.NetworkUsage {
	ifaces, err := stats.NetDev(pid)
	if err != nil {
		return nil
	}
	u := &runtime.NetworkUsage{Timestamp: time.Now().UnixNano()}
	for _, i := range ifaces {
		if i.Name == "lo" {
			continue
		}
		nu := &runtime.NetworkInterfaceUsage{
			Name: i.Name, RxBytes: &runtime.UInt64Value{Value: i.RxBytes}, RxErrors: &runtime.UInt64Value{Value: i.RxErrors},
			TxBytes: &runtime.UInt64Value{Value: i.TxBytes}, TxErrors: &runtime.UInt64Value{Value: i.TxErrors},
		}
		u.Interfaces = append(u.Interfaces, nu)
		if i.Name == network.IfName {
			u.DefaultInterface = nu
		}
	}
	return u
}
