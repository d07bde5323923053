package integration

import (
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestRunPodSandboxUndoesEveryStep fails RunPodSandbox after each of its
// steps and checks that nothing of the pod remains.
func TestRunPodSandboxUndoesEveryStep(t *testing.T) {
	for _, step := range []string{"dir", "namespaces", "files", "shm", "cgroup", "shim", "infra", "record"} {
		t.Run(step, func(t *testing.T) {
			b := startBerthd(t, "", "BERTH_TEST_FAIL_AFTER=pod:"+step)
			cfg := podConfig(t, "undo") // with a shared PID namespace, so that the infra step does something
			cfg.Linux.SecurityContext = &runtime.LinuxSandboxSecurityContext{NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_POD}}
			_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: cfg})
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("want the injected failure, got %v", err)
			}
			list, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
			if err != nil || len(list.Items) != 0 {
				t.Fatalf("pods after a failed run: %v %v", list, err)
			}
			b.assertNoLeaks()
			// The name was released: a retry with the same name may succeed
			// once the fault is gone (here it fails again, the same way).
			_, err = b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: podConfig(t, "undo")})
			if err == nil || strings.Contains(err.Error(), "reserved") {
				t.Fatalf("retry: %v", err)
			}
		})
	}
}

// TestCreateContainerUndoesEveryStep does the same for CreateContainer.
func TestCreateContainerUndoesEveryStep(t *testing.T) {
	ti := images(t)
	for _, step := range []string{"name", "dirs", "layers", "rootfs", "spec", "shim", "record"} {
		t.Run(step, func(t *testing.T) {
			b := startBerthd(t, "", "BERTH_TEST_FAIL_AFTER=container:"+step)
			img := mustPull(t, b, ti.Ref("busybox:latest"))
			pod := podConfig(t, "undo")
			podID := runPod(t, b, pod)
			_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID,
				Config: ctrConfig("c", img, "sleep", "1000"), SandboxConfig: pod})
			if err == nil || !strings.Contains(err.Error(), "injected failure") {
				t.Fatalf("want the injected failure, got %v", err)
			}
			list, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{})
			if err != nil || len(list.Containers) != 0 {
				t.Fatalf("containers after a failed create: %v %v", list, err)
			}
			if m := mountsUnder(b.State + "/containers"); len(m) != 0 {
				t.Fatalf("rootfs still mounted: %v", m)
			}
			// The image's layers are free again: removing it frees them.
			if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: img}}); err != nil {
				t.Fatal(err)
			}
			if _, layers := b.storedFiles(); layers != 0 {
				t.Fatalf("a failed create keeps %d layers from GC", layers)
			}
		})
	}
}
