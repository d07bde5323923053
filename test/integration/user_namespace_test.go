package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// usernsHostID is where the tests' pods' IDs start on the host.
const usernsHostID = 300000

func podUserns() *runtime.UserNamespace {
	m := []*runtime.IDMapping{{ContainerId: 0, HostId: usernsHostID, Length: 65536}}
	return &runtime.UserNamespace{Mode: runtime.NamespaceMode_POD, Uids: m, Gids: m}
}

// TestPodWithItsOwnUserNamespace (root): a pod with hostUsers: false runs
// as host UIDs from its mapping. Its root owns its image's files and its
// writable layer (which stores what it writes as the host UID it is), reads
// a root-only file of a bind mount as root (an idmapped mount: what it
// writes there is stored as host root), sees its own network namespace in
// sysfs, and its exec'd processes join the same user namespace. Status
// advertises user namespaces for runc; a container cannot ask for another
// user namespace than its pod's. Teardown leaves nothing (the berthd
// helper checks mounts, processes and dirs).
func TestPodWithItsOwnUserNamespace(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	st, err := b.RT.Status(ctxT(t), &runtime.StatusRequest{Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, h := range st.GetRuntimeHandlers() {
		if h.GetName() == "runc" {
			found = h.GetFeatures().GetUserNamespaces()
		}
	}
	if !found {
		t.Fatalf("runc does not advertise user namespaces: %v\n%v", st.GetRuntimeHandlers(), st.GetInfo())
	}
	img := mustPull(t, b, ti.Ref("busybox:latest"))

	data := t.TempDir() // 0700, root's: the pod's root could not even reach it without the ID mapping
	if err := os.WriteFile(filepath.Join(data, "secret"), []byte("for root only\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	for _, shared := range []bool{false, true} {
		name := "userns"
		if shared {
			name = "userns-sharedpid"
		}
		t.Run(name, func(t *testing.T) {
			pod := podConfig(t, name)
			pod.Linux.SecurityContext.NamespaceOptions.UsernsOptions = podUserns()
			if shared {
				pod.Linux.SecurityContext.NamespaceOptions.Pid = runtime.NamespaceMode_POD
			}
			podID := runPod(t, b, pod)
			cfg := ctrConfig("c", img, "sh", "-c", "cat /proc/self/uid_map /proc/self/gid_map; id -u; "+
				"stat -c '%u:%g %n' / /bin/busybox /data/secret; cat /data/secret; "+
				"echo new > /newfile && echo wrote /newfile; echo x > /data/"+name+" && echo wrote data; "+
				"ls /sys/class/net | tr '\\n' ' '; echo; echo procsubmounts=$(grep -c ' /proc/' /proc/self/mounts); sleep 1000")
			cfg.Linux.SecurityContext.NamespaceOptions = pod.Linux.SecurityContext.NamespaceOptions
			cfg.Mounts = []*runtime.Mount{{HostPath: data, ContainerPath: "/data"}}
			id := runContainer(t, b, podID, pod, cfg)
			waitForLogLines(t, logPathOf(pod, cfg), 11) // all the script's lines, up to procsubmounts=, not only up to "wrote data"
			var sb strings.Builder
			for _, l := range logLines(t, logPathOf(pod, cfg)) {
				sb.WriteString(strings.Join(strings.Fields(l[2]), " ") + "\n")
			}
			out := "\n" + sb.String()
			for _, want := range []string{
				"0 300000 65536", // uid_map, gid_map
				"\n0\n",          // id -u
				"0:0 /\n", "0:0 /bin/busybox\n", "0:0 /data/secret\n", "for root only\n",
				"wrote /newfile",
				"procsubmounts=0", // procMount: Unmasked (no lists, in a user namespace)
			} {
				if !strings.Contains(out, want) {
					t.Errorf("container output lacks %q:\n%s", want, out)
				}
			}
			if lines := strings.Count(out, "0 300000 65536"); lines != 2 {
				t.Errorf("want the mapping in uid_map and gid_map, found it %d times:\n%s", lines, out)
			}
			// sysfs is the pod's network namespace's: no host bridge.
			if strings.Contains(out, "berth0") || !strings.Contains(out, "eth0") {
				t.Errorf("/sys/class/net is not the pod's own: %s", out)
			}
			// On the host: the writable layer stores the pod's root as host
			// 300000, the idmapped mount stores it as host root.
			upper := filepath.Join(b.Root, "containers", id, "upper", "newfile")
			assertOwner(t, upper, usernsHostID)
			assertOwner(t, filepath.Join(data, name), 0)
			// An exec'd process joins the same user namespace.
			if got := execOut(t, b, id, "cat", "/proc/self/uid_map"); strings.Join(strings.Fields(got), " ") != "0 300000 65536" {
				t.Errorf("exec'd uid_map %q", got)
			}
			// The container's processes are host UID 300000.
			pid := ctrPid(t, b, id)
			if uid := hostUID(t, pid); uid != usernsHostID {
				t.Errorf("container process %d runs as host uid %d, want %d", pid, uid, usernsHostID)
			}
			// procMount: Default: the kubelet's lists are applied.
			masked := ctrConfig("masked", img, "sh", "-c", "echo procsubmounts=$(grep -c ' /proc/' /proc/self/mounts)")
			masked.Linux.SecurityContext.NamespaceOptions = pod.Linux.SecurityContext.NamespaceOptions
			masked.Linux.SecurityContext.MaskedPaths = []string{"/proc/keys"}
			masked.Linux.SecurityContext.ReadonlyPaths = []string{"/proc/sys"}
			runContainer(t, b, podID, pod, masked)
			waitForLog(t, logPathOf(pod, masked), "procsubmounts=2")
			// Another user namespace than the pod's is refused.
			other := ctrConfig("other", img, "true")
			other.Linux.SecurityContext.NamespaceOptions.UsernsOptions = &runtime.UserNamespace{Mode: runtime.NamespaceMode_NODE}
			_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: other, SandboxConfig: pod})
			if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "userns_options") {
				t.Errorf("container asking for the host's user namespace in a userns pod: %v", err)
			}
		})
	}
}

// TestUserNamespaceRequestsRefused (root): what Kubernetes cannot mean is
// refused before anything is made, naming the field.
func TestUserNamespaceRequestsRefused(t *testing.T) {
	b := startBerthd(t, "")
	for _, c := range []struct {
		name  string
		edit  func(*runtime.NamespaceOption)
		field string
	}{
		{"two mappings", func(o *runtime.NamespaceOption) {
			o.UsernsOptions.Uids = append(o.UsernsOptions.Uids, &runtime.IDMapping{ContainerId: 0, HostId: 2000, Length: 100})
		}, "userns_options.uids"},
		{"root unmapped", func(o *runtime.NamespaceOption) {
			o.UsernsOptions.Uids = []*runtime.IDMapping{{ContainerId: 1, HostId: 1000, Length: 100000}}
		}, "userns_options.uids[0].container_id"},
		{"CONTAINER", func(o *runtime.NamespaceOption) {
			o.UsernsOptions = &runtime.UserNamespace{Mode: runtime.NamespaceMode_CONTAINER}
		}, "userns_options.mode"},
		{"TARGET", func(o *runtime.NamespaceOption) {
			o.UsernsOptions = &runtime.UserNamespace{Mode: runtime.NamespaceMode_TARGET}
		}, "userns_options.mode"},
		{"host network", func(o *runtime.NamespaceOption) { o.Network = runtime.NamespaceMode_NODE }, "namespace_options.network"},
	} {
		pod := podConfig(t, "bad-userns")
		pod.Linux.SecurityContext.NamespaceOptions.UsernsOptions = podUserns()
		c.edit(pod.Linux.SecurityContext.NamespaceOptions)
		_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: pod})
		if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s: %v, want InvalidArgument naming %s", c.name, err, c.field)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(b.State, "pods")); len(entries) != 0 {
		t.Errorf("refused pods left %d dirs", len(entries))
	}
}

func assertOwner(t *testing.T, path string, uid int) {
	t.Helper()
	st, err := os.Lstat(path)
	if err != nil {
		t.Errorf("%s: %v", path, err)
		return
	}
	if got := int(st.Sys().(*syscall.Stat_t).Uid); got != uid {
		t.Errorf("%s is owned by host uid %d, want %d", path, got, uid)
	}
}

// ctrPid is a running container's host PID, from its verbose status.
func ctrPid(t *testing.T, b *berthd, id string) int {
	t.Helper()
	resp, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Pid int `json:"pid"`
	}
	if err := json.Unmarshal([]byte(resp.GetInfo()["info"]), &info); err != nil || info.Pid <= 0 {
		t.Fatalf("no pid in the status of %s: %v %v", id, resp.GetInfo(), err)
	}
	return info.Pid
}

// hostUID is the real UID of a host process.
func hostUID(t *testing.T, pid int) int {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/proc", strconv.Itoa(pid)), &st); err != nil {
		t.Fatal(err)
	}
	return int(st.Uid)
}
