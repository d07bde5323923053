package pod

import (
	"context"
	"fmt"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/ocispec"
	"github.com/berth-runtime/berth/internal/validate"
)

// UpdateResources records a ready pod's new resources and overhead (in-place
// pod resize) and, when berth made the pod's cgroup, applies their sum to
// it; a pod in the kubelet's own cgroup is resized by the kubelet.
func (m *Manager) UpdateResources(_ context.Context, id string, overhead, resources *runtime.LinuxContainerResources) error {
	if id == "" {
		return errdefs.InvalidArgument("pod_sandbox_id: is required")
	}
	if err := validate.Resources("overhead", overhead); err != nil {
		return err
	}
	if err := validate.Resources("resources", resources); err != nil {
		return err
	}
	s, err := m.Get(id)
	if err != nil {
		return err
	}
	unlock := m.locks.Lock(s.ID)
	defer unlock()
	if s, err = m.Get(s.ID); err != nil {
		return err
	}
	if s.State != StateReady {
		return errdefs.FailedPrecondition("pod sandbox %s is not ready", s.ID)
	}
	if s.OwnsCgroup {
		res, err := ocispec.Resources(podTotal(overhead, resources), false)
		if err != nil {
			return err
		}
		if err := updateCgroup(s.Cgroup, res); err != nil {
			return fmt.Errorf("resize the cgroup of pod %s: %w", s.ID, err)
		}
	}
	cfg := proto.Clone(s.Config()).(*runtime.PodSandboxConfig)
	if cfg.Linux == nil {
		cfg.Linux = &runtime.LinuxPodSandboxConfig{}
	}
	cfg.Linux.Overhead, cfg.Linux.Resources = overhead, resources
	data, err := proto.Marshal(cfg)
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.reg.Peek(s.ID)
	if !ok {
		return errdefs.NotFound("pod sandbox %s", s.ID)
	}
	next := cur.clone()
	next.ConfigProto, next.config = data, cfg
	return m.save(next)
}

// podTotal is what the pod's cgroup may use: its containers' sum plus the
// pod's overhead (memory, CPU shares and quota add up; the period is the
// containers').
func podTotal(overhead, resources *runtime.LinuxContainerResources) *runtime.LinuxContainerResources {
	t := &runtime.LinuxContainerResources{
		CpuPeriod:          resources.GetCpuPeriod(),
		CpuShares:          resources.GetCpuShares() + overhead.GetCpuShares(),
		MemoryLimitInBytes: resources.GetMemoryLimitInBytes(),
		CpusetCpus:         resources.GetCpusetCpus(),
		CpusetMems:         resources.GetCpusetMems(),
	}
	if t.MemoryLimitInBytes > 0 {
		t.MemoryLimitInBytes += overhead.GetMemoryLimitInBytes()
	}
	if q := resources.GetCpuQuota(); q > 0 {
		t.CpuQuota = q + max(overhead.GetCpuQuota(), 0)
	}
	return t
}
