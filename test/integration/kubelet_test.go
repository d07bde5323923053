package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestStandaloneKubeletRunsPods (root; needs BERTH_KUBELET, the kubelet
// binary: `make e2e-kubelet` builds it from the Go module proxy): a kubelet
// with default settings but for its endpoints (and the cgroup v1 opt-in
// this host needs) runs a static pod on berth with no wrapper and no host
// change: cpu and memory limits applied, the hugepage limits it sends
// accepted, an exec readiness probe, a container's last line without a
// newline kept partial. The kubelet's sysctl changes are undone.
func TestStandaloneKubeletRunsPods(t *testing.T) {
	kubelet := os.Getenv("BERTH_KUBELET")
	if kubelet == "" {
		t.Skip("BERTH_KUBELET is not set (make e2e-kubelet builds the kubelet and sets it)")
	}
	ti := images(t)
	b := startBerthd(t, "")
	restoreSysctls(t, "vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops")
	dir := t.TempDir()
	manifests, logs := filepath.Join(dir, "manifests"), filepath.Join(dir, "logs")
	os.MkdirAll(manifests, 0o700)
	os.WriteFile(filepath.Join(dir, "kubelet.yaml"), []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://%s
staticPodPath: %s
podLogsDir: %s
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
address: 127.0.0.1
healthzPort: 0
readOnlyPort: 0
authentication: {anonymous: {enabled: true}, webhook: {enabled: false}}
authorization: {mode: AlwaysAllow}
`, b.Socket, manifests, logs)), 0o600)
	os.WriteFile(filepath.Join(manifests, "web.yaml"), []byte(fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web, namespace: default}
spec:
  containers:
  - name: app
    image: %s
    command: ["sleep", "100000"]
    resources: {limits: {memory: 64Mi, cpu: 200m}}
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
  - name: once
    image: %s
    command: ["sh", "-c", "printf done-without-newline"]
    terminationMessagePolicy: FallbackToLogsOnError
`, ti.Ref("busybox:latest"), ti.Ref("busybox:latest"))), 0o600)
	cmd := exec.Command(kubelet, "--config", filepath.Join(dir, "kubelet.yaml"), "--root-dir", filepath.Join(dir, "kubelet"),
		"--hostname-override", "berth-node", "--v=2")
	klog, _ := os.Create(filepath.Join(dir, "kubelet.log"))
	cmd.Stdout, cmd.Stderr = klog, klog
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // before berthd's own cleanup
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		b.removeAllPods() // static pods outlive the kubelet
		for _, m := range mountsUnder(dir) {
			syscall.Unmount(m, syscall.MNT_DETACH)
		}
		removeKubeletCgroups()
	})
	var id string
	deadline := time.Now().Add(90 * time.Second)
	for id == "" {
		list, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{
			State:         &runtime.ContainerStateValue{State: runtime.ContainerState_CONTAINER_RUNNING},
			LabelSelector: map[string]string{"io.kubernetes.container.name": "app"}}})
		if err == nil && len(list.Containers) > 0 {
			id = list.Containers[0].Id
			break
		}
		if time.Now().After(deadline) {
			data, _ := os.ReadFile(filepath.Join(dir, "kubelet.log"))
			t.Fatalf("no running container from the kubelet in 90 s:\n%s", tail(string(data), 3000))
		}
		time.Sleep(500 * time.Millisecond)
	}
	limit := readCgroupFile(t, b, id, "memory", "memory.limit_in_bytes", "memory.max")
	if limit != fmt.Sprint(64<<20) {
		t.Errorf("the container's memory limit is %s, want 64Mi", limit)
	}
	st := ctrStatus(t, b, id)
	if cfgLimits := st.GetResources().GetLinux(); len(cfgLimits.GetHugepageLimits()) == 0 {
		t.Logf("note: the kubelet sent no hugepage limits")
	}
	// The other container's output ends without a newline: kept partial.
	// (The kubelet restarts it and keeps the latest attempt's log only.)
	waitForPartial(t, filepath.Join(filepath.Dir(filepath.Dir(st.LogPath)), "once", "*.log"), "done-without-newline")
	// The readiness probe runs (an ExecSync each second).
	for end := time.Now().Add(20 * time.Second); !strings.Contains(b.Log(), "method=ExecSync"); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatal("the kubelet's exec probe never reached berth")
		}
	}
}

// waitForPartial waits for a log file matching pattern to hold text as a
// partial (P) line.
func waitForPartial(t *testing.T, pattern, text string) {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		files, _ := filepath.Glob(pattern)
		for _, f := range files {
			if data, err := os.ReadFile(f); err == nil && strings.Contains(string(data), " stdout P "+text+"\n") {
				return
			}
		}
	}
	files, _ := filepath.Glob(pattern)
	t.Fatalf("no log %s (%v) holds the partial line %q", pattern, files, text)
}

// restoreSysctls puts the named sysctls back as they are now when the test
// ends (the kubelet sets them).
func restoreSysctls(t *testing.T, names ...string) {
	saved := map[string]string{}
	for _, n := range names {
		p := "/proc/sys/" + strings.ReplaceAll(n, ".", "/")
		if data, err := os.ReadFile(p); err == nil {
			saved[p] = strings.TrimSpace(string(data))
		}
	}
	t.Cleanup(func() {
		for p, v := range saved {
			os.WriteFile(p, []byte(v), 0o644)
		}
	})
}

// removeKubeletCgroups removes the kubelet's empty kubepods cgroups.
func removeKubeletCgroups() {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/kubepods*")
	roots = append(roots, "/sys/fs/cgroup/kubepods.slice", "/sys/fs/cgroup/kubepods")
	for _, r := range roots {
		var dirs []string
		filepath.Walk(r, func(p string, fi os.FileInfo, err error) error {
			if err == nil && fi.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
