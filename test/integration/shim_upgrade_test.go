package integration

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// previousRelease is the last commit CI landed before the shim protocol
// had versions: its berth-shim speaks protocol 1.
const previousRelease = "3f999d9"

// buildPreviousShim builds berth-shim from previousRelease's tree (git
// archive of this repository's history) and returns its path.
func buildPreviousShim(t *testing.T) string {
	t.Helper()
	top, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Skipf("not in a git checkout: %v", err)
	}
	root := strings.TrimSpace(string(top))
	if exec.Command("git", "-C", root, "cat-file", "-e", previousRelease+"^{commit}").Run() != nil {
		t.Skipf("commit %s is not in this clone's history (a shallow clone?)", previousRelease)
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	os.Mkdir(src, 0o700)
	if out, err := exec.Command("sh", "-c", fmt.Sprintf("git -C %q archive %s | tar -x -C %q", root, previousRelease, src)).CombinedOutput(); err != nil {
		t.Fatalf("git archive %s: %v %s", previousRelease, err, out)
	}
	bin := filepath.Join(dir, "berth-shim")
	build := exec.Command("go", "build", "-o", bin, "./cmd/berth-shim")
	build.Dir = src
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the previous release's berth-shim: %v %s", err, out)
	}
	return bin
}

// shimProtocolOf reads the pod's shim protocol from its verbose status.
func shimProtocolOf(t *testing.T, b *berthd, podID string) int {
	t.Helper()
	st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		ShimProtocol int `json:"shimProtocol"`
	}
	json.Unmarshal([]byte(st.Info["info"]), &info)
	return info.ShimProtocol
}

// TestShimOfThePreviousReleaseKeepsWorking (root; builds the previous
// release's shim from git): a pod started under the previous release keeps
// its shim across an upgrade of berthd, and the new berthd drives it with
// protocol 1: status, exec, logs, stop and removal; new pods get this
// build's shim (protocol wire.Version).
func TestShimOfThePreviousReleaseKeepsWorking(t *testing.T) {
	oldShim := buildPreviousShim(t)
	ti := images(t)
	b := startBerthd(t, fmt.Sprintf("[runtime]\nshim = %q\n", oldShim))
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "oldshim")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("ticker", img, "sh", "-c", "trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done")
	id := runContainer(t, b, podID, pod, cfg)
	pidData, err := os.ReadFile(filepath.Join(b.State, "pods", podID, "shim", wire.PidName))
	if err != nil {
		t.Fatal(err)
	}
	shimPid := strings.TrimSpace(string(pidData))
	// The upgrade: berthd restarts with this build's shim as its default.
	data, _ := os.ReadFile(b.config)
	os.WriteFile(b.config, regexp.MustCompile(`(?m)^\[runtime\]\nshim = .*\n`).ReplaceAll(data, nil), 0o600)
	b.Stop()
	b.Restart()
	if exe, _ := os.Readlink("/proc/" + shimPid + "/exe"); exe != oldShim {
		t.Fatalf("the pod's shim is %q, want the previous release's %s still running", exe, oldShim)
	}
	if v := shimProtocolOf(t, b, podID); v != 1 {
		t.Fatalf("the previous release's shim speaks protocol %d, want 1", v)
	}
	if got := execOut(t, b, id, "echo", "through the old shim"); got != "through the old shim\n" {
		t.Fatalf("exec through the old shim: %q", got)
	}
	// The old shim has no update op: berthd runs the runtime's update itself.
	newLimits := &runtime.LinuxContainerResources{MemoryLimitInBytes: 96 << 20}
	if _, err := b.RT.UpdateContainerResources(ctxT(t), &runtime.UpdateContainerResourcesRequest{ContainerId: id, Linux: newLimits}); err != nil {
		t.Fatalf("update through the old shim's pod: %v", err)
	}
	if got := execOut(t, b, id, "sh", "-c", "cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max"); strings.TrimSpace(got) != "100663296" {
		t.Fatalf("memory limit after the update: %q", got)
	}
	before := len(logLines(t, logPathOf(pod, cfg)))
	time.Sleep(500 * time.Millisecond)
	if after := len(logLines(t, logPathOf(pod, cfg))); after <= before {
		t.Fatalf("the old shim stopped logging: %d lines, then %d", before, after)
	}
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: id, Timeout: 5}); err != nil {
		t.Fatal(err)
	}
	if st := waitExited(t, b, id, 10*time.Second); st.ExitCode != 0 {
		t.Fatalf("stopped through the old shim: exit %d %s", st.ExitCode, st.Message)
	}
	newPod := podConfig(t, "newshim")
	newID := runPod(t, b, newPod)
	if v := shimProtocolOf(t, b, newID); v != wire.Version {
		t.Fatalf("a new pod's shim speaks protocol %d, want %d", v, wire.Version)
	}
	if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatalf("remove the old shim's pod: %v", err)
	}
	alive := func() bool { // a zombie has exited: its parent reaps it later
		stat, err := os.ReadFile("/proc/" + shimPid + "/stat")
		return err == nil && !strings.Contains(string(stat), ") Z ")
	}
	for end := time.Now().Add(5 * time.Second); alive(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(end) {
			stat, _ := os.ReadFile("/proc/" + shimPid + "/stat")
			t.Fatalf("the old shim outlived its pod: %s", stat)
		}
	}
}
