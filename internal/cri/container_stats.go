package cri

import (
	"context"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/stats"
)

// ContainerStats reports one container's usage.
func (s *Server) ContainerStats(_ context.Context, req *runtime.ContainerStatsRequest) (*runtime.ContainerStatsResponse, error) {
	c, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	return &runtime.ContainerStatsResponse{Stats: s.containerStats(c)}, nil
}

// ListContainerStats reports the usage of the containers a filter selects.
func (s *Server) ListContainerStats(_ context.Context, req *runtime.ListContainerStatsRequest) (*runtime.ListContainerStatsResponse, error) {
	f := req.GetFilter()
	out := []*runtime.ContainerStats{}
	all := s.containers.List()
	live := make(map[string]bool, len(all))
	for _, c := range all {
		live[c.ID] = true
	}
	s.stats.RetainLayers(live)
	for _, c := range all {
		if f.GetId() != "" && !strings.HasPrefix(c.ID, f.GetId()) ||
			f.GetPodSandboxId() != "" && !strings.HasPrefix(c.PodID, f.GetPodSandboxId()) ||
			!labelsMatch(c.Config().GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, s.containerStats(c))
	}
	return &runtime.ListContainerStatsResponse{Stats: out}, nil
}

// containerStats reads the container's cgroup (absent once it exited) and
// its writable layer.
func (s *Server) containerStats(c *container.Container) *runtime.ContainerStats {
	cfg := c.Config()
	st := &runtime.ContainerStats{Attributes: &runtime.ContainerAttributes{
		Id: c.ID, Metadata: cfg.GetMetadata(), Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(),
	}}
	if c.State == container.StateRunning {
		if sample, nanoCores, err := s.stats.Cgroup(c.ID, c.Cgroup); err == nil {
			st.Cpu, st.Memory = cpuMemory(sample, nanoCores)
		}
	}
	layer := s.stats.WritableLayer(c.ID, c.UpperDir())
	st.WritableLayer = &runtime.FilesystemUsage{
		FsId:      &runtime.FilesystemIdentifier{Mountpoint: s.images.Dir()},
		UsedBytes: &runtime.UInt64Value{Value: layer.Bytes}, InodesUsed: &runtime.UInt64Value{Value: layer.Inodes},
	}
	return st
}

func cpuMemory(x *stats.Sample, nanoCores uint64) (*runtime.CpuUsage, *runtime.MemoryUsage) {
	ts := x.Time.UnixNano()
	return &runtime.CpuUsage{
			Timestamp:            ts,
			UsageCoreNanoSeconds: &runtime.UInt64Value{Value: x.CPUUsageNanos},
			UsageNanoCores:       &runtime.UInt64Value{Value: nanoCores},
		}, &runtime.MemoryUsage{
			Timestamp:       ts,
			WorkingSetBytes: &runtime.UInt64Value{Value: x.WorkingSet},
			UsageBytes:      &runtime.UInt64Value{Value: x.MemoryUsage},
			RssBytes:        &runtime.UInt64Value{Value: x.RSS},
			PageFaults:      &runtime.UInt64Value{Value: x.PageFaults},
			MajorPageFaults: &runtime.UInt64Value{Value: x.MajorFaults},
		}
}
