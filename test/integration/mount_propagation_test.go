package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestBidirectionalMountPropagation: with a Bidirectional mount, a mount
// made inside the container appears on the host, and one made on the host
// appears inside; with a Private one neither crosses.
func TestBidirectionalMountPropagation(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "propagation")
	pod.Linux.SecurityContext.Privileged = true
	podID := runPod(t, b, pod)
	for _, prop := range []runtime.MountPropagation{runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL, runtime.MountPropagation_PROPAGATION_PRIVATE} {
		src := filepath.Join(t.TempDir(), "mnt")
		fromHost, fromCtr := filepath.Join(src, "from-host"), filepath.Join(src, "from-container")
		for _, d := range []string{fromHost, fromCtr} {
			if err := os.MkdirAll(d, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		// A shared mount on the host, as the kubelet's pod volumes dir is.
		if err := unix.Mount(src, src, "", unix.MS_BIND|unix.MS_REC, ""); err != nil {
			t.Fatal(err)
		}
		defer unix.Unmount(src, unix.MNT_DETACH)
		if err := unix.Mount("", src, "", unix.MS_SHARED|unix.MS_REC, ""); err != nil {
			t.Fatal(err)
		}
		cfg := ctrConfig("c-"+prop.String(), img, "sleep", "1000")
		cfg.Linux.SecurityContext.Privileged = true
		cfg.Mounts = []*runtime.Mount{{HostPath: src, ContainerPath: src, Propagation: prop}}
		id := runContainer(t, b, podID, pod, cfg)

		execOut(t, b, id, "mount", "--bind", "/etc", fromCtr)
		defer unix.Unmount(fromCtr, unix.MNT_DETACH)
		entries, _ := os.ReadDir(fromCtr)
		if crossed := len(entries) > 0; crossed != (prop == runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL) {
			t.Errorf("%v: the container's mount reached the host: %v", prop, crossed)
		}
		if err := unix.Mount("/usr", fromHost, "", unix.MS_BIND, ""); err != nil {
			t.Fatal(err)
		}
		defer unix.Unmount(fromHost, unix.MNT_DETACH)
		out := execOut(t, b, id, "ls", fromHost)
		if crossed := out != ""; crossed != (prop == runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL) {
			t.Errorf("%v: the host's mount reached the container: %v (%q)", prop, crossed, out)
		}
		if _, err := b.RT.RemoveContainer(ctxT(t), &runtime.RemoveContainerRequest{ContainerId: id}); err != nil {
			t.Fatal(err)
		}
	}

	// A source on a private mount cannot propagate: refused, not silently ignored.
	private := filepath.Join(t.TempDir(), "private")
	os.MkdirAll(private, 0o755)
	if err := unix.Mount(private, private, "", unix.MS_BIND, ""); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(private, unix.MNT_DETACH)
	if err := unix.Mount("", private, "", unix.MS_PRIVATE, ""); err != nil {
		t.Fatal(err)
	}
	cfg := ctrConfig("refused", img, "sleep", "1000")
	cfg.Mounts = []*runtime.Mount{{HostPath: private, ContainerPath: "/data", Propagation: runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL}}
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
	if statusCode(err) != "InvalidArgument" || !strings.Contains(err.Error(), "not shared") {
		t.Fatalf("bidirectional mount of a private source: %v", err)
	}
}

// TestMountOptionsApply (root): a volume's mount_options reach the mount:
// with noexec a binary on it cannot run, without it the same one can; a
// nosuid volume shows the flag in the container's mount table.
func TestMountOptionsApply(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	dir := t.TempDir()
	data, err := os.ReadFile("/bin/busybox")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "busybox"), data, 0o755); err != nil {
		t.Fatal(err)
	}
	pod := podConfig(t, "mountopts")
	podID := runPod(t, b, pod)
	for _, c := range []struct {
		name string
		opts []string
		want string
	}{
		{"plain", nil, "ran"},
		{"noexec", []string{"noexec", "nosuid"}, "refused"},
	} {
		cfg := ctrConfig(c.name, img, "sh", "-c", "if /data/busybox true; then echo ran; else echo refused; fi; grep ' /data ' /proc/self/mounts")
		cfg.Mounts = []*runtime.Mount{{HostPath: dir, ContainerPath: "/data", MountOptions: c.opts}}
		id := runContainer(t, b, podID, pod, cfg)
		waitExited(t, b, id, 10*time.Second)
		var out strings.Builder
		for _, l := range logLines(t, logPathOf(pod, cfg)) {
			out.WriteString(l[2] + "\n")
		}
		if !strings.Contains("\n"+out.String(), "\n"+c.want+"\n") {
			t.Errorf("%s: %q, want %s", c.name, out.String(), c.want)
		}
		for _, o := range c.opts {
			if !strings.Contains(out.String(), o) {
				t.Errorf("%s: the mount lacks %s: %q", c.name, o, out.String())
			}
		}
	}
}
