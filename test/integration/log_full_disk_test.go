package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestFullLogDiskLosesNothingSilently (root): the pod's log dir is a small
// loop-mounted ext4, nearly filled; a container writes 20000 lines. It never blocks on
// its stdout (it finishes), every line is either in the log or counted, and
// once there is room the log says how many were lost; so do the shim's
// log, berthd's log and ListPodSandboxMetrics.
func TestFullLogDiskLosesNothingSilently(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	// A 4 MiB ext4 image on a loop device, filled but for 48 KiB.
	fsImage := filepath.Join(t.TempDir(), "logs.img")
	if err := os.WriteFile(fsImage, nil, 0o600); err != nil || os.Truncate(fsImage, 4<<20) != nil {
		t.Fatal("make the image")
	}
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", fsImage).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 (e2fsprogs): %v %s", err, out)
	}
	logDir := t.TempDir()
	if out, err := exec.Command("mount", "-o", "loop", fsImage, logDir).CombinedOutput(); err != nil {
		t.Fatalf("loop mount: %v %s", err, out)
	}
	t.Cleanup(func() { // after the pod is gone (its shim held the log open)
		if exec.Command("umount", logDir).Run() != nil {
			exec.Command("umount", "-l", logDir).Run()
		}
	})
	var st unix.Statfs_t
	if err := unix.Statfs(logDir, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(logDir, "filler")
	os.WriteFile(filler, make([]byte, int64(st.Bavail)*st.Bsize-48<<10), 0o600)
	pod := podConfig(t, "fulldisk")
	pod.LogDirectory = logDir
	podID := runPod(t, b, pod)
	const total = 20000
	cfg := ctrConfig("chatty", img, "sh", "-c", fmt.Sprintf(
		"i=0; while [ $i -lt %d ]; do echo line $i; i=$((i+1)); done; touch /tmp/done; while [ ! -e /tmp/go ]; do sleep 0.05; done; echo after; while [ ! -e /tmp/end ]; do sleep 0.05; done", total))
	id := runContainer(t, b, podID, pod, cfg)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"test", "-e", "/tmp/done"}, Timeout: 10})
		if err == nil && resp.ExitCode == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the container blocked on its stdout: it did not finish writing in 60 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	os.Remove(filler) // room again
	execOut(t, b, id, "touch", "/tmp/go")
	waitForLog(t, filepath.Join(logDir, "chatty.log"), "after")
	lostMetric := uint64(0)
	metrics, err := b.RT.ListPodSandboxMetrics(ctxT(t), &runtime.ListPodSandboxMetricsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pm := range metrics.PodMetrics {
		for _, cm := range pm.ContainerMetrics {
			for _, m := range cm.Metrics {
				if cm.ContainerId == id && m.Name == "berth_container_log_lines_lost_total" {
					lostMetric = m.Value.Value
				}
			}
		}
	}
	execOut(t, b, id, "touch", "/tmp/end")
	waitExited(t, b, id, 20*time.Second)

	data, err := os.ReadFile(filepath.Join(logDir, "chatty.log"))
	if err != nil {
		t.Fatal(err)
	}
	kept := strings.Count(string(data), " stdout F line ")
	notice := regexp.MustCompile(`stderr F \[berth\] (\d+) log lines \((\d+) bytes\) could not be written between \S+ and \S+: .*no space left on device`).FindStringSubmatch(string(data))
	if notice == nil {
		t.Fatalf("no loss notice in the log (%d lines kept):\n%.2000s", kept, data[max(0, len(data)-2000):])
	}
	lost, _ := strconv.Atoi(notice[1])
	if lost == 0 || kept+lost != total {
		t.Fatalf("%d lines kept + %d counted lost = %d, want %d", kept, lost, kept+lost, total)
	}
	if lostMetric != uint64(lost) {
		t.Errorf("berth_container_log_lines_lost_total = %d, the log says %d", lostMetric, lost)
	}
	if !strings.HasSuffix(strings.TrimSpace(string(data)), " stdout F after") {
		t.Fatalf("the line written after the disk had room is not last:\n%s", data[max(0, len(data)-500):])
	}
	shimLog, _ := os.ReadFile(filepath.Join(b.State, "pods", podID, "shim", "shim.log"))
	if !strings.Contains(string(shimLog), "cannot write the container log") || !strings.Contains(string(shimLog), fmt.Sprintf("%d lines", lost)) {
		t.Errorf("shim.log does not say what was lost:\n%s", shimLog)
	}
	if !strings.Contains(b.Log(), "container log lines lost") {
		t.Errorf("berthd's log does not say lines were lost")
	}
	t.Logf("%d lines kept, %d lost and counted", kept, lost)
	if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
}
