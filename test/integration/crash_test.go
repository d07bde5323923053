package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

// crashDuring restarts berthd so that it kills itself (SIGKILL) at point,
// runs call (which the crash cuts off), then starts berthd again without
// the crash point, as a supervisor would: start-up recovery runs.
func (b *berthd) crashDuring(point string, call func()) {
	t := b.t
	t.Helper()
	b.Stop()
	saved := b.env
	b.env = append(append([]string{}, saved...), "BERTH_TEST_CRASH_AT="+point)
	b.Restart()
	call()
	select {
	case <-b.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("berthd did not crash at %s\n%s", point, b.Log())
	}
	b.conn.Close()
	b.cmd, b.conn = nil, nil
	// The pods the cut-off call may have made, for the iptables leak check.
	entries, _ := os.ReadDir(filepath.Join(b.State, "pods"))
	for _, e := range entries {
		b.podIDs = append(b.podIDs, e.Name())
	}
	b.env = saved
	b.Restart()
}

func sharedPIDPod(t *testing.T, name string) *runtime.PodSandboxConfig {
	cfg := podConfig(t, name) // with a shared PID namespace, so that the infra step does something
	cfg.Linux.SecurityContext = &runtime.LinuxSandboxSecurityContext{NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_POD}}
	cfg.PortMappings = []*runtime.PortMapping{{ContainerPort: 80, HostPort: int32(freePort(t)), HostIp: "127.0.0.1"}}
	return cfg
}

func freePort(t *testing.T) int { return freeTCPPort(t) }

// TestCrashDuringRunPodSandbox kills berthd right after each step of
// RunPodSandbox: after the restart the half-made pod is gone without a
// trace (or, cut off after its record, it is there and works).
func TestCrashDuringRunPodSandbox(t *testing.T) {
	for _, step := range []string{"dir", "namespaces", "network", "files", "shm", "cgroup", "shim", "infra", "record"} {
		t.Run(step, func(t *testing.T) {
			b := startBerthd(t, "")
			cfg := sharedPIDPod(t, "crash")
			b.crashDuring("pod:"+step, func() {
				if _, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: cfg}); err == nil {
					t.Error("RunPodSandbox answered although berthd crashed")
				}
			})
			list, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if step == "record" {
				if len(list.Items) != 1 || list.Items[0].State != runtime.PodSandboxState_SANDBOX_READY {
					t.Fatalf("a pod recorded before the crash: %v", list.Items)
				}
				if podIP(t, b, list.Items[0].Id).Ip == "" {
					t.Fatal("the recorded pod has no IP")
				}
				return // the cleanup removes it and checks for leaks
			}
			if len(list.Items) != 0 {
				t.Fatalf("pods after a crash mid-RunPodSandbox: %v", list.Items)
			}
			b.assertNoLeaks()
			// The name is free again: the kubelet's retry makes the pod.
			runPod(t, b, cfg)
		})
	}
}

// TestCrashDuringCreateContainer does the same for CreateContainer.
func TestCrashDuringCreateContainer(t *testing.T) {
	ti := images(t)
	for _, step := range []string{"dirs", "layers", "rootfs", "spec", "shim", "record"} {
		t.Run(step, func(t *testing.T) {
			b := startBerthd(t, "")
			img := mustPull(t, b, ti.Ref("busybox:latest"))
			pod := sharedPIDPod(t, "crash")
			podID := runPod(t, b, pod)
			cfg := ctrConfig("c", img, "sleep", "1000")
			b.crashDuring("container:"+step, func() {
				_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
				if err == nil {
					t.Error("CreateContainer answered although berthd crashed")
				}
			})
			list, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{})
			if err != nil {
				t.Fatal(err)
			}
			if step == "record" {
				if len(list.Containers) != 1 || list.Containers[0].State != runtime.ContainerState_CONTAINER_CREATED {
					t.Fatalf("a container recorded before the crash: %v", list.Containers)
				}
				startContainer(t, b, list.Containers[0].Id)
				return
			}
			if len(list.Containers) != 0 {
				t.Fatalf("containers after a crash mid-CreateContainer: %v", list.Containers)
			}
			assertOnlyPodsInRuntime(t, b, podID)
			if m := mountsUnder(filepath.Join(b.State, "containers")); len(m) != 0 {
				t.Fatalf("rootfs still mounted: %v", m)
			}
			for _, dir := range []string{filepath.Join(b.State, "containers"), filepath.Join(b.Root, "containers")} {
				if entries, _ := os.ReadDir(dir); len(entries) != 0 {
					t.Fatalf("container dirs left in %s: %d", dir, len(entries))
				}
			}
			// The name is free again and the pod works.
			startContainer(t, b, createContainer(t, b, podID, pod, cfg))
		})
	}
}

// assertOnlyPodsInRuntime fails if the OCI runtime knows anything but the
// pods' infra processes.
func assertOnlyPodsInRuntime(t *testing.T, b *berthd, podIDs ...string) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(b.State, "runtime", "runc"))
	for _, e := range entries {
		if !strings.Contains(strings.Join(podIDs, " "), e.Name()) {
			t.Fatalf("runc still knows %s", e.Name())
		}
	}
}

// TestCrashDuringOtherCalls kills berthd in the middle of StartContainer,
// RemoveContainer, StopPodSandbox and RemovePodSandbox: after the restart
// each is finished, and what the CRI reports is what the host has.
func TestCrashDuringOtherCalls(t *testing.T) {
	ti := images(t)
	cases := []struct {
		point string
		call  func(b *berthd, podID, ctrID string) error
		check func(t *testing.T, b *berthd, podID, ctrID string)
	}{
		{"container-start:runtime", func(b *berthd, _, ctrID string) error {
			_, err := b.RT.StartContainer(ctxT(b.t), &runtime.StartContainerRequest{ContainerId: ctrID})
			return err
		}, func(t *testing.T, b *berthd, _, ctrID string) {
			st := ctrStatus(t, b, ctrID)
			if st.State != runtime.ContainerState_CONTAINER_RUNNING || st.StartedAt == 0 {
				t.Fatalf("a container started before the crash is %v (started %d)", st.State, st.StartedAt)
			}
			if out := execOut(t, b, ctrID, "echo", "alive"); strings.TrimSpace(out) != "alive" {
				t.Fatalf("exec in the recovered container: %q", out)
			}
		}},
		{"container-remove:shim", func(b *berthd, _, ctrID string) error {
			_, err := b.RT.RemoveContainer(ctxT(b.t), &runtime.RemoveContainerRequest{ContainerId: ctrID})
			return err
		}, func(t *testing.T, b *berthd, podID, ctrID string) {
			if _, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: ctrID}); statusCode(err) != "NotFound" {
				t.Fatalf("a removal cut off is not finished: %v\n%s", err, b.Log())
			}
			assertOnlyPodsInRuntime(t, b, podID)
			if m := mountsUnder(filepath.Join(b.State, "containers")); len(m) != 0 {
				t.Fatalf("rootfs still mounted: %v", m)
			}
		}},
		{"pod-stop:containers", stopPod, assertStopped},
		{"pod-stop:network", stopPod, assertStopped},
		// `berth start` of a container whose pod was stopped sets the pod
		// up again; cut off, recovery finishes it as a stop.
		{"pod-restart:network", restartStoppedPod, assertStopped},
		{"pod-restart:infra", restartStoppedPod, assertStopped},
		{"pod-remove:containers", removePod, assertRemoved},
		{"pod-remove:record", removePod, assertRemoved},
	}
	for _, c := range cases {
		t.Run(c.point, func(t *testing.T) {
			b := startBerthd(t, "")
			img := mustPull(t, b, ti.Ref("busybox:latest"))
			pod := sharedPIDPod(t, "crash")
			podID := runPod(t, b, pod)
			ctrID := createContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))
			if !strings.HasPrefix(c.point, "container-start") {
				startContainer(t, b, ctrID)
			}
			b.crashDuring(c.point, func() {
				if err := c.call(b, podID, ctrID); err == nil {
					t.Errorf("%s answered although berthd crashed", c.point)
				}
			})
			c.check(t, b, podID, ctrID)
		})
	}
}

func stopPod(b *berthd, podID, _ string) error {
	_, err := b.RT.StopPodSandbox(ctxT(b.t), &runtime.StopPodSandboxRequest{PodSandboxId: podID})
	return err
}

func restartStoppedPod(b *berthd, podID, ctrID string) error {
	if err := stopPod(b, podID, ctrID); err != nil {
		b.t.Fatalf("stop before the restart: %v", err)
	}
	if out, code := cliExit(b.t.(*testing.T), b, "start", ctrID); code != 0 {
		return fmt.Errorf("berth start: exit %d: %s", code, out)
	}
	return nil
}

func removePod(b *berthd, podID, _ string) error {
	_, err := b.RT.RemovePodSandbox(ctxT(b.t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID})
	return err
}

func assertStopped(t *testing.T, b *berthd, podID, ctrID string) {
	st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
	if err != nil || st.Status.State != runtime.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("a stop cut off is not finished: %v %v", st, err)
	}
	if cs := ctrStatus(t, b, ctrID); cs.State != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("container of a stopped pod is %v", cs.State)
	}
	if ips := allocatedIPs(filepath.Join(b.State, "cni", "ipam")); len(ips) != 0 {
		t.Fatalf("IPs allocated after the stop: %v", ips)
	}
	if ports := bridgePorts("berth0"); len(ports) != 0 {
		t.Fatalf("veths after the stop: %v", ports)
	}
	if m := mountsUnder(filepath.Join(b.State, "pods", podID, "ns")); len(m) != 0 {
		t.Fatalf("namespaces pinned after the stop: %v", m)
	}
	if r := iptablesRulesMentioning([]string{podID}); len(r) != 0 {
		t.Fatalf("iptables rules after the stop: %v", r)
	}
}

func assertRemoved(t *testing.T, b *berthd, podID, _ string) {
	list, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
	if err != nil || len(list.Items) != 0 {
		t.Fatalf("a removal cut off is not finished: %v %v", list, err)
	}
	b.assertNoLeaks()
}

// TestCrashDuringPull kills berthd in the middle of a layer download:
// the restart removes the partial blob and layer, nothing of the image is
// visible, and the pull then works.
func TestCrashDuringPull(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "")
	var partial []string
	proxy.SetFault(fixture.Fault{CutAfter: 256 << 10, OnCut: func() {
		time.Sleep(100 * time.Millisecond) // let the bytes so far reach the disk
		partial = b.tempFiles()
		b.cmd.Process.Kill()
	}})
	if _, err := pull(t, b, proxy.Addr+"/multilayer:latest", nil); err == nil {
		t.Fatal("a pull cut by a crash succeeded")
	}
	<-b.exited
	b.conn.Close()
	b.cmd, b.conn = nil, nil
	if len(partial) == 0 {
		t.Fatal("the crash came before any partial file was written: the test proves nothing")
	}
	proxy.SetFault(fixture.Fault{})
	b.Restart()
	assertEmptyStore(t, b)
	if id, err := pull(t, b, proxy.Addr+"/multilayer:latest", nil); err != nil || id != ti.MultiLayerID {
		t.Fatalf("pull after the crash: %s %v", id, err)
	}
}
