package ocispec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// setResources maps CRI resources onto the spec, clamping oom_score_adj to
// what the host allows.
func setResources(s *specs.Spec, r *runtime.LinuxContainerResources, host Host) error {
	if err := host.Hugetlb.CheckHugepages("config.linux.resources", r); err != nil {
		return err
	}
	res, err := Resources(r, host.Hugetlb.Applies())
	if err != nil {
		return err
	}
	res.Devices = s.Linux.Resources.Devices
	s.Linux.Resources = res
	adj := ClampOOMScoreAdj(int(r.GetOomScoreAdj()), host.MinOOMScoreAdj)
	s.Process.OOMScoreAdj = &adj
	return nil
}

// ClampOOMScoreAdj keeps adj within [min, 1000].
func ClampOOMScoreAdj(adj, min int) int {
	if adj < min {
		adj = min
	}
	if adj > 1000 {
		adj = 1000
	}
	return adj
}

// Resources converts CRI container resources (also used by
// UpdateContainerResources) to OCI resources; hugepage limits only when
// hugepages is set (the host's runtime can apply them).
func Resources(r *runtime.LinuxContainerResources, hugepages bool) (*specs.LinuxResources, error) {
	out := &specs.LinuxResources{}
	if r == nil {
		return out, nil
	}
	if r.GetMemoryLimitInBytes() < 0 || r.GetCpuShares() < 0 || r.GetCpuPeriod() < 0 {
		return nil, errdefs.InvalidArgument("resources must not be negative: %v", r)
	}
	cpu := &specs.LinuxCPU{Cpus: r.GetCpusetCpus(), Mems: r.GetCpusetMems()}
	if v := uint64(r.GetCpuShares()); v > 0 {
		cpu.Shares = &v
	}
	if v := r.GetCpuQuota(); v != 0 {
		cpu.Quota = &v
	}
	if v := uint64(r.GetCpuPeriod()); v > 0 {
		cpu.Period = &v
	}
	out.CPU = cpu
	if v := r.GetMemoryLimitInBytes(); v > 0 {
		out.Memory = &specs.LinuxMemory{Limit: &v}
		if sw := r.GetMemorySwapLimitInBytes(); sw > 0 {
			out.Memory.Swap = &sw
		}
	}
	for _, h := range r.GetHugepageLimits() {
		if !hugepages {
			break
		}
		out.HugepageLimits = append(out.HugepageLimits, specs.LinuxHugepageLimit{Pagesize: h.GetPageSize(), Limit: h.GetLimit()})
	}
	if len(r.GetUnified()) > 0 {
		out.Unified = r.GetUnified()
	}
	return out, nil
}
