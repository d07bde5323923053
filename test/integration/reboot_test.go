package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// simulateReboot does to berth's pods what a reboot does, with berthd
// down: every shim and container process dies, every mount goes (so the
// pinned network namespaces and their veths go too). keepState says the
// state dir is on a disk that survives the reboot; else it is wiped, like
// the tmpfs of /run.
func (b *berthd) simulateReboot(keepState bool) {
	t := b.t
	t.Helper()
	b.Kill()
	for _, p := range processesMentioning(b.dir) {
		pid, _ := strconv.Atoi(strings.SplitN(p, ":", 2)[0])
		syscall.Kill(pid, syscall.SIGKILL)
	}
	for _, root := range []string{"/sys/fs/cgroup/pids/berth", "/sys/fs/cgroup/berth"} {
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.Name() == "cgroup.procs" {
				data, _ := os.ReadFile(p)
				for _, f := range strings.Fields(string(data)) {
					pid, _ := strconv.Atoi(f)
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			return nil
		})
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(processesMentioning(b.dir)) > 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	mounts := mountsUnder(b.dir)
	for i := len(mounts) - 1; i >= 0; i-- {
		if err := unix.Unmount(mounts[i], unix.MNT_DETACH); err != nil {
			t.Fatalf("unmount %s: %v", mounts[i], err)
		}
	}
	if keepState {
		// A new boot: the boot ID berthd recorded is not this one.
		if err := os.WriteFile(filepath.Join(b.State, "boot_id"), []byte("00000000-0000-0000-0000-000000000000\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	} else if err := os.RemoveAll(b.State); err != nil {
		t.Fatal(err)
	}
	b.Restart()
}

// TestHostReboot: after a reboot, berth's pods come back not ready and
// their containers exited (a running one with exit code 255 and a message
// that says why; one that had exited keeps its code); their IPs and port
// mappings are released at once, and removing them leaves nothing.
func TestHostReboot(t *testing.T) {
	ti := images(t)
	for _, keepState := range []bool{false, true} {
		name := map[bool]string{false: "state-wiped", true: "state-on-disk"}[keepState]
		t.Run(name, func(t *testing.T) {
			b := startBerthd(t, "")
			img := mustPull(t, b, ti.Ref("busybox:latest"))
			pod := sharedPIDPod(t, "reboot")
			podID := runPod(t, b, pod)
			running := runContainer(t, b, podID, pod, ctrConfig("running", img, "sleep", "1000"))
			done := runContainer(t, b, podID, pod, ctrConfig("done", img, "sh", "-c", "exit 3"))
			waitExited(t, b, done, 5*time.Second)
			other := podConfig(t, "reboot-other")
			otherID := runPod(t, b, other)

			b.simulateReboot(keepState)

			for _, id := range []string{podID, otherID} {
				st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: id})
				if err != nil || st.Status.State != runtime.PodSandboxState_SANDBOX_NOTREADY {
					t.Fatalf("pod after the reboot: %v %v", st, err)
				}
			}
			st := ctrStatus(t, b, running)
			if st.State != runtime.ContainerState_CONTAINER_EXITED || st.ExitCode != 255 || !strings.Contains(st.Message, "rebooted") {
				t.Fatalf("running container after the reboot: %v %d %q %q", st.State, st.ExitCode, st.Reason, st.Message)
			}
			if st := ctrStatus(t, b, done); st.State != runtime.ContainerState_CONTAINER_EXITED || st.ExitCode != 3 {
				t.Fatalf("exited container after the reboot: %v %d", st.State, st.ExitCode)
			}
			if r := iptablesRulesMentioning([]string{podID}); len(r) != 0 {
				t.Fatalf("port mapping rules after the reboot: %v", r)
			}
			if ips := allocatedIPs(filepath.Join(b.State, "cni", "ipam")); len(ips) != 0 {
				t.Fatalf("IPs still allocated after the reboot: %v", ips)
			}
			// The kubelet removes the dead pods; nothing may be left (checked
			// by the cleanup), and a new pod of the same name runs.
			for _, id := range []string{podID, otherID} {
				if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
					t.Fatalf("remove a pod after the reboot: %v", err)
				}
			}
			runPod(t, b, pod)
		})
	}
}
