package ocispec

import (
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Hugetlb says whether the OCI runtime can apply hugepage limits on this
// host, and what to do with them when it cannot.
type Hugetlb struct {
	// Usable: the hugetlb controller is bound where the runtime looks for
	// it (a cgroup v1 hierarchy, or the cgroup2 root of a unified host).
	Usable bool `json:"usable"`
	// Policy: "auto" applies limits where usable and drops them elsewhere
	// (the kubelet sends them for every container, 0 for each page size);
	// "strict" refuses a container whose limits cannot be applied; "off"
	// always drops them.
	Policy string `json:"policy"`
	// Reason tells where the controller is (or is not).
	Reason string `json:"reason"`
}

// Applies reports whether limits are passed to the runtime.
func (h Hugetlb) Applies() bool {
	return h.Policy == "strict" || (h.Policy != "off" && h.Usable)
}

// CheckHugepages answers a request whose limits cannot be kept: with
// policy strict, FailedPrecondition naming the field and why.
func (h Hugetlb) CheckHugepages(field string, r *runtime.LinuxContainerResources) error {
	if len(r.GetHugepageLimits()) > 0 && h.Policy == "strict" && !h.Usable {
		return errdefs.FailedPrecondition("%s.hugepage_limits: the hugetlb controller is not usable by the runtime on this host (%s) and runtime.hugepage_limits is \"strict\"", field, h.Reason)
	}
	return nil
}
