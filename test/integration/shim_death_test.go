package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// shimPid reads a pod's berth-shim pid.
func shimPid(t *testing.T, b *berthd, podID string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.State, "pods", podID, "shim", "shim.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

// containerPid reads a running container's pid from its verbose status.
func containerPid(t *testing.T, b *berthd, id string) int {
	t.Helper()
	resp, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Pid int }
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil || info.Pid <= 0 {
		t.Fatalf("pid of %s: %v %q", id, err, resp.Info["info"])
	}
	return info.Pid
}

func processGone(pid int) bool {
	return syscall.Kill(pid, 0) == syscall.ESRCH
}

// TestKilledShimEndsItsPod (root): kill -9 of a pod's berth-shim with two
// running containers, with berthd up and with berthd down: the containers'
// processes are killed, they are reported exited with a message naming the
// monitor, the pod turns NOTREADY, a create in it is FailedPrecondition,
// and stop and remove clean everything (the leak check at the end).
func TestKilledShimEndsItsPod(t *testing.T) {
	ti := images(t)
	for _, berthdDown := range []bool{false, true} {
		name := "berthd up"
		if berthdDown {
			name = "berthd down"
		}
		t.Run(name, func(t *testing.T) {
			b := startBerthd(t, "")
			img := mustPull(t, b, ti.Ref("busybox:latest"))
			pod := podConfig(t, "shimkill")
			podID := runPod(t, b, pod)
			var ids []string
			var pids []int
			for _, n := range []string{"a", "b"} {
				id := runContainer(t, b, podID, pod, ctrConfig(n, img, "sleep", "1000"))
				ids, pids = append(ids, id), append(pids, containerPid(t, b, id))
			}
			ip := statusIP(t, b, podID)
			if berthdDown {
				b.Kill()
			}
			if err := syscall.Kill(shimPid(t, b, podID), syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			if berthdDown {
				time.Sleep(200 * time.Millisecond)
				b.Restart()
			}
			deadline := time.Now().Add(15 * time.Second)
			for {
				st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
				if err != nil {
					t.Fatal(err)
				}
				if st.Status.State == runtime.PodSandboxState_SANDBOX_NOTREADY {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("pod still %v 15 s after its shim died\n%s", st.Status.State, b.Log())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if got := statusIP(t, b, podID); got != ip || ip == "" {
				t.Errorf("the pod whose shim died shows IP %q, had %q", got, ip)
			}
			for i, id := range ids {
				st := ctrStatus(t, b, id)
				if st.State != runtime.ContainerState_CONTAINER_EXITED || st.ExitCode != 255 || !strings.Contains(st.Message, "berth-shim") {
					t.Errorf("container %s: %v exit %d message %q", id, st.State, st.ExitCode, st.Message)
				}
				for end := time.Now().Add(5 * time.Second); !processGone(pids[i]) && time.Now().Before(end); {
					time.Sleep(20 * time.Millisecond)
				}
				if !processGone(pids[i]) {
					t.Errorf("container %s's process %d still runs", id, pids[i])
				}
			}
			_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: ctrConfig("c", img, "true"), SandboxConfig: pod})
			if statusCode(err) != "FailedPrecondition" {
				t.Errorf("create in a pod whose shim died: %v, want FailedPrecondition", err)
			}
			if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
				t.Fatalf("stop: %v", err)
			}
			if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
				t.Fatalf("remove: %v", err)
			}
		})
	}
}
