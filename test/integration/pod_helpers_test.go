package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

var podSeq int

// podConfig is a minimal pod config with a log directory of its own.
func podConfig(t testing.TB, name string) *runtime.PodSandboxConfig {
	podSeq++
	return &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "default", Uid: fmt.Sprintf("uid-%s-%d", name, podSeq)},
		Hostname:     name,
		LogDirectory: t.TempDir(),
		Labels:       map[string]string{"app": name},
		// As the kubelet does for pods that do not share their process
		// namespace (NamespaceMode's zero value, POD, would share it).
		Linux: &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}}},
	}
}

func runPod(t testing.TB, b *berthd, cfg *runtime.PodSandboxConfig) string {
	t.Helper()
	resp, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatalf("run pod: %v\n%s", err, b.Log())
	}
	b.podIDs = append(b.podIDs, resp.PodSandboxId)
	return resp.PodSandboxId
}

// ctrConfig runs image with cmd, logging to name.log.
func ctrConfig(name, image string, cmd ...string) *runtime.ContainerConfig {
	return &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: image},
		Command:  cmd,
		LogPath:  name + ".log",
		Linux: &runtime.LinuxContainerConfig{SecurityContext: &runtime.LinuxContainerSecurityContext{
			NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}}},
	}
}

func createContainer(t testing.TB, b *berthd, podID string, pod *runtime.PodSandboxConfig, cfg *runtime.ContainerConfig) string {
	t.Helper()
	resp, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
	if err != nil {
		t.Fatalf("create container: %v\n%s", err, b.Log())
	}
	return resp.ContainerId
}

func startContainer(t testing.TB, b *berthd, id string) {
	t.Helper()
	if _, err := b.RT.StartContainer(ctxT(t), &runtime.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("start container: %v\n%s", err, b.Log())
	}
}

// runContainer creates and starts a container.
func runContainer(t testing.TB, b *berthd, podID string, pod *runtime.PodSandboxConfig, cfg *runtime.ContainerConfig) string {
	t.Helper()
	id := createContainer(t, b, podID, pod, cfg)
	startContainer(t, b, id)
	return id
}

func ctrStatus(t testing.TB, b *berthd, id string) *runtime.ContainerStatus {
	t.Helper()
	resp, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		t.Fatalf("container status: %v", err)
	}
	return resp.Status
}

// waitExited polls until the container has exited.
func waitExited(t testing.TB, b *berthd, id string, within time.Duration) *runtime.ContainerStatus {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		st := ctrStatus(t, b, id)
		if st.State == runtime.ContainerState_CONTAINER_EXITED {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s still %v after %s", id, st.State, within)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// logLines reads a container's CRI log as (stream, tag, text) triples.
func logLines(t testing.TB, path string) [][3]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read log: %v", err)
	}
	var out [][3]string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		parts := strings.SplitN(line, " ", 4)
		if len(parts) != 4 {
			t.Fatalf("malformed CRI log line %q", line)
		}
		if _, err := time.Parse(time.RFC3339Nano, parts[0]); err != nil {
			t.Fatalf("bad timestamp in %q: %v", line, err)
		}
		out = append(out, [3]string{parts[1], parts[2], parts[3]})
	}
	return out
}

func logPathOf(pod *runtime.PodSandboxConfig, ctr *runtime.ContainerConfig) string {
	return filepath.Join(pod.LogDirectory, ctr.LogPath)
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

func execCommand(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}
