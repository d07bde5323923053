package integration

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestStreamCallsAnswerWhatListAnswers (root): each Stream* call gives every
// item its List call gives, once, with the same filter, then EOF.
func TestStreamCallsAnswerWhatListAnswers(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	var podIDs []string
	for i := 0; i < 3; i++ {
		pod := podConfig(t, fmt.Sprintf("stream%d", i))
		podID := runPod(t, b, pod)
		podIDs = append(podIDs, podID)
		runContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))
	}
	count := func(recv func() (int, error)) int {
		t.Helper()
		n := 0
		for {
			k, err := recv()
			if errors.Is(err, io.EOF) {
				return n
			}
			if err != nil {
				t.Fatal(err)
			}
			n += k
		}
	}
	pods, err := b.RT.StreamPodSandboxes(ctxT(t), &runtime.StreamPodSandboxesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(func() (int, error) { r, err := pods.Recv(); return len(r.GetPodSandboxes()), err }); n != 3 {
		t.Errorf("StreamPodSandboxes: %d pods, want 3", n)
	}
	one, err := b.RT.StreamContainers(ctxT(t), &runtime.StreamContainersRequest{Filter: &runtime.ContainerFilter{PodSandboxId: podIDs[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(func() (int, error) { r, err := one.Recv(); return len(r.GetContainers()), err }); n != 1 {
		t.Errorf("StreamContainers filtered by pod: %d, want 1", n)
	}
	stats, err := b.RT.StreamContainerStats(ctxT(t), &runtime.StreamContainerStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(func() (int, error) { r, err := stats.Recv(); return len(r.GetContainerStats()), err }); n != 3 {
		t.Errorf("StreamContainerStats: %d, want 3", n)
	}
	pstats, err := b.RT.StreamPodSandboxStats(ctxT(t), &runtime.StreamPodSandboxStatsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(func() (int, error) { r, err := pstats.Recv(); return len(r.GetPodSandboxStats()), err }); n != 3 {
		t.Errorf("StreamPodSandboxStats: %d, want 3", n)
	}
	metrics, err := b.RT.StreamPodSandboxMetrics(ctxT(t), &runtime.StreamPodSandboxMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(func() (int, error) { r, err := metrics.Recv(); return len(r.GetPodSandboxMetrics()), err }); n != 3 {
		t.Errorf("StreamPodSandboxMetrics: %d, want 3", n)
	}
	imgs, err := b.Images.StreamImages(ctxT(t), &runtime.StreamImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if n := count(func() (int, error) { r, err := imgs.Recv(); return len(r.GetImages()), err }); n != 1 {
		t.Errorf("StreamImages: %d, want 1", n)
	}
}

// TestUpdatePodSandboxResources (root): in-place pod resize applies the
// new sum (resources + overhead) to the cgroup berth made for the pod, and
// refuses bad values and unknown pods.
func TestUpdatePodSandboxResources(t *testing.T) {
	b := startBerthd(t, "")
	pod := podConfig(t, "resize")
	podID := runPod(t, b, pod)
	_, err := b.RT.UpdatePodSandboxResources(ctxT(t), &runtime.UpdatePodSandboxResourcesRequest{PodSandboxId: podID,
		Resources: &runtime.LinuxContainerResources{MemoryLimitInBytes: 256 << 20, CpuShares: 512},
		Overhead:  &runtime.LinuxContainerResources{MemoryLimitInBytes: 16 << 20, CpuShares: 2}})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprint(272 << 20)
	var got string
	for _, p := range []string{filepath.Join("/sys/fs/cgroup/memory/berth", podID, "memory.limit_in_bytes"), filepath.Join("/sys/fs/cgroup/berth", podID, "memory.max")} {
		if data, err := os.ReadFile(p); err == nil {
			got = strings.TrimSpace(string(data))
			break
		}
	}
	if got != want {
		t.Fatalf("pod cgroup memory limit %q, want %s", got, want)
	}
	_, err = b.RT.UpdatePodSandboxResources(ctxT(t), &runtime.UpdatePodSandboxResourcesRequest{PodSandboxId: podID,
		Resources: &runtime.LinuxContainerResources{CpuShares: 1}})
	if statusCode(err) != "InvalidArgument" || !strings.Contains(err.Error(), "resources.cpu_shares") {
		t.Fatalf("bad shares: %v", err)
	}
	_, err = b.RT.UpdatePodSandboxResources(ctxT(t), &runtime.UpdatePodSandboxResourcesRequest{PodSandboxId: "nosuchpod"})
	if statusCode(err) != "NotFound" {
		t.Fatalf("unknown pod: %v", err)
	}
}
