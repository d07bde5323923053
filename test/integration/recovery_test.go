package integration

import (
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestShimKeepsLoggingWhileBerthdIsDown kills berthd with SIGKILL while a
// container prints a numbered line every 10 ms: the shim keeps writing,
// and the log has no gap and no duplicate once berthd is back.
func TestShimKeepsLoggingWhileBerthdIsDown(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "ticker")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("ticker", img, "sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo $i; i=$((i+1)); usleep 10000; done")
	id := runContainer(t, b, podID, pod, cfg)
	time.Sleep(300 * time.Millisecond)

	b.Kill()
	time.Sleep(700 * time.Millisecond)
	b.Restart()

	if st := ctrStatus(t, b, id); st.State != runtime.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("after berthd's restart the container is %v", st.State)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: id, Timeout: 5}); err != nil {
		t.Fatal(err)
	}
	st := ctrStatus(t, b, id)
	if st.State != runtime.ContainerState_CONTAINER_EXITED || st.ExitCode != 0 {
		t.Fatalf("stop after restart: %v %d", st.State, st.ExitCode)
	}
	lines := logLines(t, logPathOf(pod, cfg))
	if len(lines) < 80 {
		t.Fatalf("only %d lines in 1.3 s of 10 ms ticks", len(lines))
	}
	for i, l := range lines {
		if n, err := strconv.Atoi(l[2]); err != nil || n != i || l[0] != "stdout" || l[1] != "F" {
			t.Fatalf("line %d is %v: a gap or a duplicate", i, l)
		}
	}
}

// TestExitWhileBerthdIsDown: a container that exits while berthd is down
// is reported with its real exit code once berthd is back.
func TestExitWhileBerthdIsDown(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "down")
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("short", img, "sh", "-c", "sleep 0.5; exit 42"))
	b.Kill()
	time.Sleep(time.Second)
	b.Restart()
	st := waitExited(t, b, id, 5*time.Second)
	if st.ExitCode != 42 || st.Reason != "Error" || st.FinishedAt == 0 {
		t.Fatalf("exit recorded while berthd was down: %d %q %d", st.ExitCode, st.Reason, st.FinishedAt)
	}
}

// TestNetworkTeardownAfterRestart: a pod set up before berthd restarted is
// torn down with the config it was set up with.
func TestNetworkTeardownAfterRestart(t *testing.T) {
	requireRoot(t)
	b := startBerthd(t, "")
	podID := runPod(t, b, podConfig(t, "restart"))
	if ip := podIP(t, b, podID).Ip; ip == "" {
		t.Fatal("no pod IP")
	}
	b.Kill()
	b.Restart()
	if ip := podIP(t, b, podID).Ip; ip == "" {
		t.Fatal("pod IP lost across the restart")
	}
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if ips := allocatedIPs(filepath.Join(b.State, "cni", "ipam")); len(ips) != 0 {
		t.Fatalf("IPs allocated after stop: %v", ips)
	}
	if len(bridgePorts("berth0")) != 0 {
		t.Fatal("veth left after stop")
	}
}

// TestRetriedRunPodSandboxGetsTheSameSandbox: concurrent identical
// RunPodSandbox calls (a kubelet retrying after its timeout) all get the
// one sandbox, not a name conflict.
func TestRetriedRunPodSandboxGetsTheSameSandbox(t *testing.T) {
	requireRoot(t)
	b := startBerthd(t, "")
	pod := podConfig(t, "retried")
	ids := make(chan string, 4)
	for i := 0; i < 4; i++ {
		go func() {
			resp, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: pod})
			if err != nil {
				ids <- "error: " + err.Error()
				return
			}
			ids <- resp.PodSandboxId
		}()
	}
	first := <-ids
	for i := 1; i < 4; i++ {
		if id := <-ids; id != first {
			t.Fatalf("concurrent identical RunPodSandbox answered %q and %q", first, id)
		}
	}
	list, _ := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
	if len(list.Items) != 1 {
		t.Fatalf("%d pods after four identical calls", len(list.Items))
	}
}

// TestImageRemovedUnderARunningContainer: an image removed while a
// container runs from it keeps its layers for the container, also across a
// berthd restart (start-up garbage collection runs only once containers
// hold their layers); removing the container frees them.
func TestImageRemovedUnderARunningContainer(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("multilayer:latest"))
	pod := podConfig(t, "rmi")
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: img}}); err != nil {
		t.Fatal(err)
	}
	_, layers := b.storedFiles()
	b.Kill()
	b.Restart()
	if _, after := b.storedFiles(); after != layers || layers == 0 {
		t.Fatalf("layers of a running container: %d before the restart, %d after", layers, after)
	}
	if out := execOut(t, b, id, "ls", "/bin/sh"); strings.TrimSpace(out) != "/bin/sh" {
		t.Fatalf("the container's rootfs after the restart: %q", out)
	}
	if _, err := b.RT.RemoveContainer(ctxT(t), &runtime.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if blobs, layers := b.storedFiles(); blobs != 0 || layers != 0 {
		t.Fatalf("after the last user went: %d blobs, %d layers", blobs, layers)
	}
}
