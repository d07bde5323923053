package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestMemoryLimitOOMKilled(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "oom")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("hog", img, "sh", "-c", "tail /dev/zero")
	cfg.Linux.Resources = &runtime.LinuxContainerResources{MemoryLimitInBytes: 32 << 20, OomScoreAdj: -997}
	id := runContainer(t, b, podID, pod, cfg)
	st := waitExited(t, b, id, 30*time.Second)
	if st.Reason != "OOMKilled" || st.ExitCode != 137 {
		t.Fatalf("reason %q exit %d, want OOMKilled 137", st.Reason, st.ExitCode)
	}
}

func TestUpdateResourcesAndReopenLog(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "upd")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("c", img, "sh", "-c", "trap 'echo after' USR1; echo before; while true; do sleep 0.1; done")
	cfg.Linux.Resources = &runtime.LinuxContainerResources{MemoryLimitInBytes: 64 << 20}
	id := runContainer(t, b, podID, pod, cfg)
	_, err := b.RT.UpdateContainerResources(ctxT(t), &runtime.UpdateContainerResourcesRequest{ContainerId: id,
		Linux: &runtime.LinuxContainerResources{MemoryLimitInBytes: 96 << 20, CpuShares: 256}})
	if err != nil {
		t.Fatal(err)
	}
	limit := readCgroupFile(t, b, id, "memory", "memory.limit_in_bytes", "memory.max")
	if limit != "100663296" {
		t.Fatalf("memory limit after update %q", limit)
	}
	if st := ctrStatus(t, b, id); st.Resources.GetLinux().GetMemoryLimitInBytes() != 96<<20 {
		t.Fatalf("status resources %+v", st.Resources)
	}
	// Log rotation: the file is moved away, ReopenContainerLog starts a new one.
	logPath := logPathOf(pod, cfg)
	waitForLog(t, logPath, "before")
	if err := os.Rename(logPath, logPath+".1"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RT.ReopenContainerLog(ctxT(t), &runtime.ReopenContainerLogRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	execOut(t, b, id, "kill", "-USR1", "1")
	waitForLog(t, logPath, "after")
}

func waitForLog(t *testing.T, path, text string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(path); err == nil && strings.Contains(string(data), " F "+text+"\n") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	data, _ := os.ReadFile(path)
	t.Fatalf("log %s never had %q: %q", path, text, data)
}

// readCgroupFile reads a file of the container's cgroup (v1 controller
// file or v2 file).
func readCgroupFile(t *testing.T, b *berthd, id, controller, v1file, v2file string) string {
	t.Helper()
	resp, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	info := resp.Info["info"]
	i := strings.Index(info, `"cgroup":"`)
	cg := info[i+10:]
	cg = cg[:strings.Index(cg, `"`)]
	for _, p := range []string{filepath.Join("/sys/fs/cgroup", controller, cg, v1file), filepath.Join("/sys/fs/cgroup", cg, v2file)} {
		if data, err := os.ReadFile(p); err == nil {
			return strings.TrimSpace(string(data))
		}
	}
	t.Fatalf("no cgroup file for %s", cg)
	return ""
}

// enableCrun makes Debian's crun 1.8 work on this hybrid host by binding
// hugetlb to a v1 hierarchy, as the project's docs describe, and undoes it
// when the test ends (after its berthd is gone): later tests, and a
// kubelet on this host, must see the host as it boots.
func enableCrun(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("crun"); err != nil {
		t.Fatal("crun is not installed (Debian package crun)")
	}
	mounts, _ := os.ReadFile("/proc/self/mounts")
	if strings.Contains(string(mounts), "/sys/fs/cgroup/hugetlb ") || !strings.Contains(string(mounts), "/sys/fs/cgroup/unified ") {
		return
	}
	const dir = "/sys/fs/cgroup/hugetlb"
	made := os.Mkdir(dir, 0o755) == nil
	if out, err := exec.Command("mount", "-t", "cgroup", "-o", "hugetlb", "cgroup", dir).CombinedOutput(); err != nil {
		t.Fatalf("bind hugetlb for crun: %v %s", err, out)
	}
	t.Cleanup(func() {
		// The hierarchy dies with its last mount only if no cgroup, not
		// even a dying one, is left in it; only then hugetlb goes back to
		// the cgroup2 mount. Removed cgroups linger a moment: wait.
		removeCgroupTree(dir)
		hugetlbCgroups := regexp.MustCompile(`(?m)^hugetlb\s+(\d+)\s+(\d+)`)
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			data, _ := os.ReadFile("/proc/cgroups")
			if m := hugetlbCgroups.FindSubmatch(data); m == nil || string(m[2]) == "1" {
				break
			}
		}
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("undo the hugetlb binding: %v %s", err, out)
		}
		if made {
			os.Remove(dir)
		}
		for end := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			data, _ := os.ReadFile("/proc/cgroups")
			if m := hugetlbCgroups.FindSubmatch(data); m == nil || string(m[1]) == "0" {
				break
			} else if time.Now().After(end) {
				t.Errorf("hugetlb is still bound to a v1 hierarchy after the test:\n%s", data)
				break
			}
		}
	})
}

// removeCgroupTree removes the cgroups below dir, deepest first.
func removeCgroupTree(dir string) {
	var dirs []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != dir {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

func TestCrunHandler(t *testing.T) {
	ti := images(t)
	enableCrun(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "crun")
	resp, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: pod, RuntimeHandler: "crun"})
	if err != nil {
		t.Fatal(err)
	}
	podID := resp.PodSandboxId
	cfg := ctrConfig("echo", img, "sh", "-c", "echo via crun; exit 4")
	id := runContainer(t, b, podID, pod, cfg)
	st := waitExited(t, b, id, 10*time.Second)
	if st.ExitCode != 4 {
		t.Fatalf("exit %d\n%s", st.ExitCode, b.Log())
	}
	if lines := logLines(t, logPathOf(pod, cfg)); len(lines) != 1 || lines[0][2] != "via crun" {
		t.Fatalf("crun log %v", lines)
	}
	hog := ctrConfig("hog", img, "sh", "-c", "tail /dev/zero")
	hog.Linux.Resources = &runtime.LinuxContainerResources{MemoryLimitInBytes: 32 << 20}
	hid := runContainer(t, b, podID, pod, hog)
	if st := waitExited(t, b, hid, 30*time.Second); st.Reason != "OOMKilled" {
		t.Fatalf("crun OOM: reason %q exit %d", st.Reason, st.ExitCode)
	}
	sleeper := runContainer(t, b, podID, pod, ctrConfig("sleeper", img, "sleep", "1000"))
	if got := execOut(t, b, sleeper, "echo", "exec via crun"); got != "exec via crun\n" {
		t.Fatalf("crun exec %q", got)
	}
	ps, _ := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
	if ps.Status.RuntimeHandler != "crun" {
		t.Fatalf("handler %q", ps.Status.RuntimeHandler)
	}
	_, err = b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: podConfig(t, "x"), RuntimeHandler: "kata"})
	if statusCode(err) != "InvalidArgument" || !strings.Contains(err.Error(), "kata") {
		t.Fatalf("unknown handler: %v", err)
	}
}
