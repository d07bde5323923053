package cri

import (
	"context"
	"io/fs"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

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
	s.layerUsage.retain(live)
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
		if sample, err := stats.Cgroup(c.Cgroup); err == nil {
			st.Cpu, st.Memory = s.cpuMemory(c.ID, sample)
		}
	}
	bytes, inodes := s.layerUsage.get(c.ID, filepath.Join(c.DataDir, "upper"))
	st.WritableLayer = &runtime.FilesystemUsage{
		FsId:      &runtime.FilesystemIdentifier{Mountpoint: s.images.Dir()},
		UsedBytes: &runtime.UInt64Value{Value: bytes}, InodesUsed: &runtime.UInt64Value{Value: inodes},
	}
	return st
}

func (s *Server) cpuMemory(id string, x *stats.Sample) (*runtime.CpuUsage, *runtime.MemoryUsage) {
	ts := x.Time.UnixNano()
	return &runtime.CpuUsage{
			Timestamp:            ts,
			UsageCoreNanoSeconds: &runtime.UInt64Value{Value: x.CPUUsageNanos},
			UsageNanoCores:       &runtime.UInt64Value{Value: s.rates.NanoCores(id, x)},
		}, &runtime.MemoryUsage{
			Timestamp:       ts,
			WorkingSetBytes: &runtime.UInt64Value{Value: x.WorkingSet},
			UsageBytes:      &runtime.UInt64Value{Value: x.MemoryUsage},
			RssBytes:        &runtime.UInt64Value{Value: x.RSS},
			PageFaults:      &runtime.UInt64Value{Value: x.PageFaults},
			MajorPageFaults: &runtime.UInt64Value{Value: x.MajorFaults},
		}
}

// layerUsageMaxAge is how long a writable layer's measured size is reused:
// the kubelet asks for every container's stats every few seconds, and a
// walk of a big writable layer is not free. (cAdvisor measures disk usage
// about once a minute.)
const layerUsageMaxAge = 30 * time.Second

// usageCache remembers the last walk of each container's writable layer.
type usageCache struct {
	mu      sync.Mutex
	entries map[string]usageEntry
}

type usageEntry struct {
	bytes, inodes uint64
	at            time.Time
}

func (u *usageCache) get(id, dir string) (uint64, uint64) {
	u.mu.Lock()
	e, ok := u.entries[id]
	u.mu.Unlock()
	if ok && time.Since(e.at) < layerUsageMaxAge {
		return e.bytes, e.inodes
	}
	e.bytes, e.inodes = diskUsage(dir)
	e.at = time.Now()
	u.mu.Lock()
	if u.entries == nil {
		u.entries = map[string]usageEntry{}
	}
	u.entries[id] = e
	u.mu.Unlock()
	return e.bytes, e.inodes
}

func (u *usageCache) forget(id string) {
	u.mu.Lock()
	delete(u.entries, id)
	u.mu.Unlock()
}

// retain drops the entries of containers that are gone (removed with their
// pod, or by an ID prefix).
func (u *usageCache) retain(live map[string]bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	for id := range u.entries {
		if !live[id] {
			delete(u.entries, id)
		}
	}
}

// diskUsage sums the blocks and inodes below dir.
func diskUsage(dir string) (bytes, inodes uint64) {
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if info, err := d.Info(); err == nil {
			if st, ok := info.Sys().(*syscall.Stat_t); ok {
				bytes += uint64(st.Blocks) * 512
				inodes++
			}
		}
		return nil
	})
	return bytes, inodes
}
