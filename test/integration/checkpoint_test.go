package integration

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// workingCriu finds a criu that can checkpoint on this host: $BERTH_CRIU,
// else criu in $PATH. Debian 12's criu 3.17 cannot run on kernels whose
// vDSO layout it does not know (6.18 here: "Unexpected rt vDSO area
// bounds"); the test then skips, saying so.
func workingCriu(t *testing.T) string {
	t.Helper()
	criu := os.Getenv("BERTH_CRIU")
	if criu == "" {
		p, err := exec.LookPath("criu")
		if err != nil {
			t.Skip("no criu on this host")
		}
		criu = p
	}
	out, err := exec.Command(criu, "check").CombinedOutput()
	if err != nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		t.Skipf("criu (%s) cannot run on this host: %s", criu, lines[0])
	}
	return criu
}

// berthdWithCriu starts berthd with a working criu and pulls busybox.
func berthdWithCriu(t *testing.T) (*berthd, *testImages, string) {
	t.Helper()
	criu := workingCriu(t)
	ti := images(t)
	b := startBerthd(t, "[runtime]\ncriu = \""+criu+"\"\n")
	return b, ti, mustPull(t, b, ti.Ref("busybox:latest"))
}

// TestCheckpointAndRestoreContainer (root, a working criu): a container
// counting in a shell variable, with a file it keeps open and writes to
// and a file of its image it deleted, is checkpointed while it runs on (the
// archive is CRI-O's layout, which checkpointctl reads). A new container
// made from the archive, in another pod, continues counting from where the
// checkpoint was taken, into the same open file, which kept what was
// written before; the deleted file stays deleted. Refusals name the field.
func TestCheckpointAndRestoreContainer(t *testing.T) {
	b, _, img := berthdWithCriu(t)
	pod := podConfig(t, "ckpt")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("counter", img, "sh", "-c",
		"rm /etc/group; exec 3>/tmp/open.txt; i=0; while true; do i=$((i+1)); echo $i; echo $i >&3; sleep 0.05; done")
	id := runContainer(t, b, podID, pod, cfg)
	waitForLog(t, logPathOf(pod, cfg), "20")

	dir := t.TempDir()
	archive := filepath.Join(dir, "counter.tar")
	before := lastNumber(t, logPathOf(pod, cfg))
	if _, err := b.RT.CheckpointContainer(ctxT(t), &runtime.CheckpointContainerRequest{ContainerId: id, Location: archive}); err != nil {
		t.Fatalf("checkpoint: %v\n%s", err, b.Log())
	}
	after := lastNumber(t, logPathOf(pod, cfg))
	if st := ctrStatus(t, b, id); st.State != runtime.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("the checkpointed container stopped: %v", st.State)
	}
	time.Sleep(300 * time.Millisecond)
	if n := lastNumber(t, logPathOf(pod, cfg)); n <= after {
		t.Errorf("the container stopped counting after its checkpoint: %d then %d", after, n)
	}

	// The archive: what checkpointctl and CRI-O read.
	files := archiveFiles(t, archive)
	for _, want := range []string{"config.dump", "spec.dump", "rootfs-diff.tar", "deleted.files", "dump.log", "checkpoint/inventory.img"} {
		if _, ok := files[want]; !ok {
			t.Errorf("archive lacks %s (has %d files)", want, len(files))
		}
	}
	var meta struct {
		ID             string `json:"id"`
		Name           string `json:"name"`
		RootfsImageRef string `json:"rootfsImageRef"`
	}
	if err := json.Unmarshal(files["config.dump"], &meta); err != nil || meta.ID != id || meta.Name != "counter" || meta.RootfsImageRef == "" {
		t.Errorf("config.dump %s: %v", files["config.dump"], err)
	}
	var deleted []string
	if err := json.Unmarshal(files["deleted.files"], &deleted); err != nil || strings.Join(deleted, ",") != "etc/group" {
		t.Errorf("deleted.files %s: %v", files["deleted.files"], err)
	}

	// Restore into another pod.
	pod2 := podConfig(t, "restored")
	pod2ID := runPod(t, b, pod2)
	rcfg := ctrConfig("counter", archive)
	rid := createContainer(t, b, pod2ID, pod2, rcfg)
	if st := ctrStatus(t, b, rid); st.State != runtime.ContainerState_CONTAINER_CREATED || st.Image.GetImage() != img {
		t.Errorf("restored container before its start: %v image %q, want created from %s", st.State, st.Image.GetImage(), img)
	}
	startContainer(t, b, rid)
	waitForLogLines(t, logPathOf(pod2, rcfg), 10)
	first := firstNumber(t, logPathOf(pod2, rcfg))
	if first <= before || first > after+1 {
		t.Errorf("the restored container went on from %d, want from the checkpoint (after %d, at most %d)", first, before, after+1)
	}
	open := execOut(t, b, rid, "sh", "-c", "head -1 /tmp/open.txt; tail -1 /tmp/open.txt; test -e /etc/group && echo group is back; true")
	lines := strings.Fields(open)
	if len(lines) != 2 || lines[0] != "1" {
		t.Fatalf("open file in the restored container: %q, want it from 1 on and /etc/group gone", open)
	}
	if n, _ := strconv.Atoi(lines[1]); n < first {
		t.Errorf("the restored process stopped writing its open file: last %d, it logged %d", n, first)
	}
	// It stops and goes like any container.
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: rid, Timeout: 1}); err != nil {
		t.Fatal(err)
	}

	// Refusals.
	for _, c := range []struct {
		req  *runtime.CheckpointContainerRequest
		code codes.Code
		text string
	}{
		{&runtime.CheckpointContainerRequest{ContainerId: id}, codes.InvalidArgument, "location"},
		{&runtime.CheckpointContainerRequest{ContainerId: id, Location: "rel.tar"}, codes.InvalidArgument, "location"},
		{&runtime.CheckpointContainerRequest{ContainerId: "nope", Location: archive}, codes.NotFound, "nope"},
		{&runtime.CheckpointContainerRequest{ContainerId: rid, Location: archive}, codes.FailedPrecondition, "running"},
	} {
		_, err := b.RT.CheckpointContainer(ctxT(t), c.req)
		if status.Code(err) != c.code || !strings.Contains(err.Error(), c.text) {
			t.Errorf("checkpoint %v: %v, want %v naming %s", c.req, err, c.code, c.text)
		}
	}
	bad := filepath.Join(dir, "not-a-checkpoint.tar")
	os.WriteFile(bad, []byte("x"), 0o600)
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: pod2ID, Config: ctrConfig("bad", bad), SandboxConfig: pod2})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "config.image.image") {
		t.Errorf("create from a file that is no checkpoint: %v", err)
	}
}

// archiveFiles reads a tar into memory by name.
func archiveFiles(t *testing.T, path string) map[string][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out[strings.TrimSuffix(hdr.Name, "/")] = data
	}
}

func lastNumber(t *testing.T, log string) int {
	lines := logLines(t, log)
	n, _ := strconv.Atoi(lines[len(lines)-1][2])
	return n
}

func firstNumber(t *testing.T, log string) int {
	n, _ := strconv.Atoi(logLines(t, log)[0][2])
	return n
}

func waitForLogLines(t *testing.T, log string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if data, err := os.ReadFile(log); err == nil && strings.Count(string(data), "\n") >= n {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("log %s never had %d lines", log, n)
}

// TestCheckpointAndRestorePod (root, a working criu): two counting
// containers of a pod are checkpointed as one cut into an empty directory
// and run on; RestorePod makes a new pod with both containers created from
// it, and once started each counts on from where it was. Requests that
// cannot mean anything are refused before anything is written or made.
func TestCheckpointAndRestorePod(t *testing.T) {
	b, ti, img := berthdWithCriu(t)
	pod := podConfig(t, "podckpt")
	podID := runPod(t, b, pod)
	count := "i=0; while true; do i=$((i+1)); echo $i; sleep 0.05; done"
	var ids []string
	var cfgs []*runtime.ContainerConfig
	for _, name := range []string{"a", "b"} {
		cfg := ctrConfig(name, img, "sh", "-c", count)
		cfgs = append(cfgs, cfg)
		ids = append(ids, runContainer(t, b, podID, pod, cfg))
	}
	for _, cfg := range cfgs {
		waitForLog(t, logPathOf(pod, cfg), "10")
	}
	dir := t.TempDir()

	// Refused, writing nothing.
	other := podConfig(t, "other")
	otherID := runPod(t, b, other)
	otherCtr := runContainer(t, b, otherID, other, ctrConfig("c", img, "sleep", "1000"))
	full := t.TempDir()
	os.WriteFile(filepath.Join(full, "x"), nil, 0o600)
	for _, c := range []struct {
		req  *runtime.CheckpointPodRequest
		code codes.Code
		text string
	}{
		{&runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: dir}, codes.InvalidArgument, "container_ids"},
		{&runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: "rel", ContainerIds: ids}, codes.InvalidArgument, "output_path"},
		{&runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: full, ContainerIds: ids}, codes.InvalidArgument, "output_path"},
		{&runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: dir, ContainerIds: ids, Options: map[string]string{"x": "y"}}, codes.InvalidArgument, "options"},
		{&runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: dir, ContainerIds: []string{ids[0], ids[0]}}, codes.InvalidArgument, "container_ids[1]"},
		{&runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: dir, ContainerIds: []string{ids[0], otherCtr}}, codes.InvalidArgument, "container_ids[1]"},
		{&runtime.CheckpointPodRequest{PodSandboxId: "nope", OutputPath: dir, ContainerIds: ids}, codes.NotFound, "nope"},
	} {
		_, err := b.RT.CheckpointPod(ctxT(t), c.req)
		if status.Code(err) != c.code || !strings.Contains(err.Error(), c.text) {
			t.Errorf("checkpoint pod %v: %v, want %v naming %s", c.req, err, c.code, c.text)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("refused checkpoints wrote %d files", len(entries))
	}

	before := []int{lastNumber(t, logPathOf(pod, cfgs[0])), lastNumber(t, logPathOf(pod, cfgs[1]))}
	if _, err := b.RT.CheckpointPod(ctxT(t), &runtime.CheckpointPodRequest{PodSandboxId: podID, OutputPath: dir, ContainerIds: ids}); err != nil {
		t.Fatalf("checkpoint pod: %v\n%s", err, b.Log())
	}
	after := []int{lastNumber(t, logPathOf(pod, cfgs[0])), lastNumber(t, logPathOf(pod, cfgs[1]))}
	for _, f := range []string{"pod.options", "pod.dump", "a.tar", "b.tar"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("pod checkpoint lacks %s: %v", f, err)
		}
	}
	for _, id := range ids {
		if st := ctrStatus(t, b, id); st.State != runtime.ContainerState_CONTAINER_RUNNING {
			t.Errorf("container %s after the pod checkpoint: %v", id, st.State)
		}
	}

	// A restore whose configs do not match the checkpoint makes nothing.
	restored := podConfig(t, "podckpt-restored")
	pods := func() int {
		l, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return len(l.Items)
	}
	n := pods()
	_, err := b.RT.RestorePod(ctxT(t), &runtime.RestorePodRequest{CheckpointPath: dir, Config: restored, ContainerConfigs: cfgs[:1]})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "container_configs") || pods() != n {
		t.Errorf("restore with a container missing: %v, %d pods (were %d)", err, pods(), n)
	}
	wrongImage := ctrConfig("b", ti.Ref("web:latest"))
	mustPull(t, b, ti.Ref("web:latest"))
	_, err = b.RT.RestorePod(ctxT(t), &runtime.RestorePodRequest{CheckpointPath: dir, Config: restored, ContainerConfigs: []*runtime.ContainerConfig{cfgs[0], wrongImage}})
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "image") || pods() != n {
		t.Errorf("restore with another image: %v, %d pods (were %d)", err, pods(), n)
	}

	resp, err := b.RT.RestorePod(ctxT(t), &runtime.RestorePodRequest{CheckpointPath: dir, Config: restored, ContainerConfigs: cfgs})
	if err != nil {
		t.Fatalf("restore pod: %v\n%s", err, b.Log())
	}
	b.podIDs = append(b.podIDs, resp.PodSandboxId)
	if len(resp.RestoredContainers) != 2 {
		t.Fatalf("restored %v", resp.RestoredContainers)
	}
	for _, rc := range resp.RestoredContainers {
		if st := ctrStatus(t, b, rc.ContainerId); st.State != runtime.ContainerState_CONTAINER_CREATED {
			t.Errorf("%s before its start: %v", rc.Name, st.State)
		}
		startContainer(t, b, rc.ContainerId)
	}
	for i, cfg := range cfgs {
		waitForLogLines(t, logPathOf(restored, cfg), 5)
		first := firstNumber(t, logPathOf(restored, cfg))
		if first <= before[i] || first > after[i]+1 {
			t.Errorf("restored %s went on from %d, want from the checkpoint (after %d, at most %d)", cfg.Metadata.Name, first, before[i], after[i]+1)
		}
	}
}
