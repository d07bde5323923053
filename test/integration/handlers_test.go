package integration

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestHandlersReportWhatTheyCanDo (root): Status lists each handler with
// the features its probe found (runc here knows recursive read-only
// mounts); a handler that cannot create a container on this host has a
// false condition with the runtime's reason, and a pod asking for it is
// FailedPrecondition at once; with it as the default, RuntimeReady is false.
func TestHandlersReportWhatTheyCanDo(t *testing.T) {
	broken := "[runtime.handlers.broken]\npath = \"/bin/false\"\n"
	b := startBerthd(t, broken)
	st, err := b.RT.Status(ctxT(t), &runtime.StatusRequest{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	features := map[string]*runtime.RuntimeHandlerFeatures{}
	for _, h := range st.RuntimeHandlers {
		features[h.Name] = h.Features
	}
	// runc lists user namespaces and this host's layer store takes idmapped
	// mounts (TestPodWithItsOwnUserNamespace runs such a pod).
	if !features["runc"].GetRecursiveReadOnlyMounts() || !features[""].GetRecursiveReadOnlyMounts() ||
		!features["runc"].GetUserNamespaces() || !features[""].GetUserNamespaces() {
		t.Errorf("runc's features: %v (default: %v)", features["runc"], features[""])
	}
	conds := map[string]*runtime.RuntimeCondition{}
	for _, c := range st.Status.Conditions {
		conds[c.Type] = c
	}
	if c := conds["berth.io/handler-broken-ready"]; c == nil || c.Status || !strings.Contains(c.Message, "false create") {
		t.Errorf("broken handler's condition: %v", c)
	}
	if c := conds[runtime.RuntimeReady]; !c.Status {
		t.Errorf("RuntimeReady false with a working default handler: %v", c)
	}
	var reports map[string]struct{ Ready bool }
	if err := json.Unmarshal([]byte(st.Info["handlers"]), &reports); err != nil || !reports["runc"].Ready || reports["broken"].Ready {
		t.Errorf("verbose handlers info %q: %v", st.Info["handlers"], err)
	}
	_, err = b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: podConfig(t, "broken"), RuntimeHandler: "broken"})
	if statusCode(err) != "FailedPrecondition" || !strings.Contains(err.Error(), "broken") {
		t.Errorf("pod on the broken handler: %v", err)
	}
	b.Stop()

	d := startBerthd(t, broken+"[runtime]\ndefault_handler = \"broken\"\n")
	st, err = d.RT.Status(ctxT(t), &runtime.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range st.Status.Conditions {
		if c.Type == runtime.RuntimeReady && (c.Status || c.Reason != "DefaultHandlerNotReady") {
			t.Errorf("RuntimeReady with a broken default handler: %v", c)
		}
	}
}

// TestRecursiveReadOnlyMount (root): a recursive_read_only mount is read
// only in its submounts too (a plain read-only bind leaves them writable);
// a recursive one that is not readonly is InvalidArgument.
func TestRecursiveReadOnlyMount(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	src := t.TempDir()
	sub := src + "/sub"
	if err := unix.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := unix.Mount("tmpfs", sub, "tmpfs", 0, "size=1m"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Unmount(sub, unix.MNT_DETACH) })
	pod := podConfig(t, "rro")
	podID := runPod(t, b, pod)
	write := func(name string, rro bool) int32 {
		cfg := ctrConfig(name, img, "sh", "-c", "touch /data/sub/x")
		cfg.Mounts = []*runtime.Mount{{ContainerPath: "/data", HostPath: src, Readonly: true, RecursiveReadOnly: rro}}
		id := runContainer(t, b, podID, pod, cfg)
		return waitExited(t, b, id, 10*time.Second).ExitCode
	}
	if code := write("plain", false); code != 0 {
		t.Fatalf("a plain read-only bind's submount was not writable (exit %d): the test proves nothing", code)
	}
	if code := write("recursive", true); code == 0 {
		t.Fatal("a recursive read-only mount's submount was writable")
	}
	bad := ctrConfig("bad", img, "true")
	bad.Mounts = []*runtime.Mount{{ContainerPath: "/data", HostPath: src, RecursiveReadOnly: true}}
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: bad, SandboxConfig: pod})
	if statusCode(err) != "InvalidArgument" || !strings.Contains(err.Error(), "recursive_read_only") {
		t.Fatalf("recursive without readonly: %v", err)
	}
}
