package integration

import (
	"fmt"
	"sync"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCreatesRacingPodStop (root): 10 containers created and started while
// StopPodSandbox (then RemovePodSandbox) runs: each create or start either
// succeeds before the stop takes the pod's containers, or fails
// FailedPrecondition (or NotFound once the pod is gone); never Unknown.
// The leak check at the end proves nothing of a late create survives.
func TestCreatesRacingPodStop(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	for _, remove := range []bool{false, true} {
		for round := 0; round < 3; round++ {
			pod := podConfig(t, fmt.Sprintf("race%d", round))
			podID := runPod(t, b, pod)
			var wg sync.WaitGroup
			errs := make(chan error, 40)
			for i := 0; i < 10; i++ {
				wg.Add(1)
				go func(i int) {
					defer wg.Done()
					resp, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID,
						Config: ctrConfig(fmt.Sprintf("c%d", i), img, "sleep", "1000"), SandboxConfig: pod})
					if err == nil {
						_, err = b.RT.StartContainer(ctxT(t), &runtime.StartContainerRequest{ContainerId: resp.ContainerId})
					}
					errs <- err
				}(i)
			}
			time.Sleep(time.Duration(20+round*30) * time.Millisecond)
			var stopErr error
			if remove {
				_, stopErr = b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID})
			} else {
				_, stopErr = b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID})
			}
			if stopErr != nil {
				t.Fatalf("stop/remove racing creates: %v", stopErr)
			}
			wg.Wait()
			close(errs)
			ok, refused := 0, 0
			for err := range errs {
				switch statusCode(err) {
				case "OK":
					ok++
				case "FailedPrecondition", "NotFound":
					refused++
				default:
					t.Errorf("create/start racing the pod's stop: %v", err)
				}
			}
			t.Logf("remove=%v round %d: %d created and started, %d refused", remove, round, ok, refused)
			if !remove {
				list, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{PodSandboxId: podID}})
				if err != nil {
					t.Fatal(err)
				}
				for _, c := range list.Containers {
					if c.State == runtime.ContainerState_CONTAINER_RUNNING {
						t.Errorf("container %s runs in a stopped pod", c.Id)
					}
				}
				if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
}
