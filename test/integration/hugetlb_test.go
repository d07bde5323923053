package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// kubeletHugepages is what the kubelet sends for every container: a limit
// of 0 for each page size the host has.
func kubeletHugepages() []*runtime.HugepageLimit {
	return []*runtime.HugepageLimit{{PageSize: "2MB", Limit: 0}, {PageSize: "1GB", Limit: 0}}
}

// hostHasV1Hugetlb tells whether the host, as it is now, binds hugetlb to
// a cgroup v1 hierarchy (this VM boots without one).
func hostHasV1Hugetlb(t *testing.T) bool {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if _, after, ok := strings.Cut(line, " - cgroup "); ok && strings.Contains(after, "hugetlb") {
			return true
		}
	}
	return false
}

// TestKubeletHugepageLimitsOnThisHost (root): a container with the
// kubelet's hugepage limits runs with runc on the host as it is, berth
// says whether the limits were applied and why, and the strict policy
// refuses them where they cannot be.
func TestKubeletHugepageLimitsOnThisHost(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "huge")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("c", img, "sh", "-c", "echo ran")
	cfg.Linux.Resources = &runtime.LinuxContainerResources{HugepageLimits: kubeletHugepages()}
	id := runContainer(t, b, podID, pod, cfg)
	if st := waitExited(t, b, id, 10*time.Second); st.ExitCode != 0 {
		t.Fatalf("exit %d: %s", st.ExitCode, st.Message)
	}
	st, err := b.RT.Status(ctxT(t), &runtime.StatusRequest{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Usable, Applied bool
		Policy, Reason  string
	}
	if err := json.Unmarshal([]byte(st.Info["hugepageLimits"]), &info); err != nil {
		t.Fatalf("status info %q: %v", st.Info, err)
	}
	v1 := hostHasV1Hugetlb(t)
	if info.Applied != v1 || info.Usable != v1 || info.Policy != "auto" || info.Reason == "" {
		t.Fatalf("hugetlb info %+v, host has a v1 hugetlb hierarchy: %v", info, v1)
	}
	unified, _ := os.ReadFile("/sys/fs/cgroup/unified/cgroup.controllers")
	if !v1 && strings.Contains(string(unified), "hugetlb") && !strings.Contains(info.Reason, "hybrid") {
		t.Errorf("reason %q does not name the hybrid layout", info.Reason)
	}
}

// TestHugepageStrictPolicy (root): with runtime.hugepage_limits = "strict"
// a container whose limits cannot be applied here is refused, naming the
// field, and nothing is left.
func TestHugepageStrictPolicy(t *testing.T) {
	if hostHasV1Hugetlb(t) {
		t.Skip("the host binds hugetlb to a v1 hierarchy: limits apply, nothing to refuse")
	}
	ti := images(t)
	b := startBerthd(t, "[runtime]\nhugepage_limits = \"strict\"\n")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "huge-strict")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("c", img, "true")
	cfg.Linux.Resources = &runtime.LinuxContainerResources{HugepageLimits: kubeletHugepages()}
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
	if statusCode(err) != "FailedPrecondition" || !strings.Contains(err.Error(), "config.linux.resources.hugepage_limits") {
		t.Fatalf("strict: %v", err)
	}
	// Without hugepage limits the same container runs.
	cfg.Linux.Resources = nil
	runContainer(t, b, podID, pod, cfg)
}

func readMountinfo(t *testing.T) string {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
