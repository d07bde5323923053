package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

// execOut runs cmd in a container and returns its stdout, failing on a
// non-zero exit.
func execOut(t *testing.T, b *berthd, id string, cmd ...string) string {
	t.Helper()
	resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: 20})
	if err != nil {
		t.Fatalf("exec %v: %v", cmd, err)
	}
	if resp.ExitCode != 0 {
		t.Fatalf("exec %v: exit %d: %s%s", cmd, resp.ExitCode, resp.Stdout, resp.Stderr)
	}
	return string(resp.Stdout)
}

func TestReadonlyRootfsAndUser(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "secure")
	podID := runPod(t, b, pod)

	cfg := ctrConfig("ro", img, "sleep", "1000")
	cfg.Linux.SecurityContext.ReadonlyRootfs = true
	cfg.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1000}
	id := runContainer(t, b, podID, pod, cfg)
	if got := execOut(t, b, id, "id"); !strings.Contains(got, "uid=1000(berth) gid=1000(berth)") || !strings.Contains(got, "2000(extra)") {
		t.Fatalf("id: %q", got)
	}
	resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"touch", "/tmp/x"}, Timeout: 10})
	if err != nil || resp.ExitCode == 0 || !strings.Contains(string(resp.Stderr), "Read-only file system") {
		t.Fatalf("write to a read-only rootfs: %+v %v", resp, err)
	}
	// /dev/shm stays writable, and is the pod's.
	execOut(t, b, id, "sh", "-c", "echo x > /dev/shm/f")

	named := ctrConfig("named", img, "id", "-u")
	named.Linux.SecurityContext.RunAsUsername = "berth"
	nid := runContainer(t, b, podID, pod, named)
	waitExited(t, b, nid, 10*time.Second)
	if lines := logLines(t, logPathOf(pod, named)); len(lines) != 1 || lines[0][2] != "1000" {
		t.Fatalf("run as username: %v", lines)
	}
}

func TestPodFilesAndIdentity(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "ident")
	pod.Hostname = "my-host"
	pod.DnsConfig = &runtime.DNSConfig{Servers: []string{"10.0.0.10"}, Searches: []string{"default.svc.cluster.local", "svc.cluster.local"}, Options: []string{"ndots:5"}}
	pod.Annotations = map[string]string{"note": "kept"}
	pod.Linux.Sysctls = map[string]string{"net.ipv4.ip_unprivileged_port_start": "80"}
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))

	if got := execOut(t, b, id, "hostname"); got != "my-host\n" {
		t.Errorf("hostname %q", got)
	}
	want := "search default.svc.cluster.local svc.cluster.local\nnameserver 10.0.0.10\noptions ndots:5\n"
	if got := execOut(t, b, id, "cat", "/etc/resolv.conf"); got != want {
		t.Errorf("resolv.conf %q, want %q", got, want)
	}
	if got := execOut(t, b, id, "cat", "/etc/hosts"); !strings.Contains(got, "localhost") || !strings.Contains(got, "my-host") {
		t.Errorf("hosts %q", got)
	}
	if got := execOut(t, b, id, "cat", "/proc/sys/net/ipv4/ip_unprivileged_port_start"); got != "80\n" {
		t.Errorf("pod sysctl %q", got)
	}
	if got := execOut(t, b, id, "sh", "-c", "grep ' /dev/shm ' /proc/mounts"); !strings.Contains(got, "tmpfs") {
		t.Errorf("/dev/shm: %q", got)
	}
	// Loopback, up, and the pod's interface.
	if got := execOut(t, b, id, "ip", "-o", "link"); !strings.Contains(got, "lo: <LOOPBACK,UP") || !strings.Contains(got, "eth0@") || strings.Count(got, "\n") != 2 {
		t.Errorf("links: %q", got)
	}
	// Two containers of the pod share IPC (the pod's /dev/shm) and network.
	other := runContainer(t, b, podID, pod, ctrConfig("other", img, "sleep", "1000"))
	execOut(t, b, id, "sh", "-c", "echo shared > /dev/shm/s")
	if got := execOut(t, b, other, "cat", "/dev/shm/s"); got != "shared\n" {
		t.Errorf("shm not shared: %q", got)
	}

	st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	s := st.Status
	if s.State != runtime.PodSandboxState_SANDBOX_READY || s.Metadata.Name != "ident" || s.Labels["app"] != "ident" ||
		s.Annotations["note"] != "kept" || s.RuntimeHandler != "runc" || !strings.Contains(st.Info["info"], "netns") {
		t.Fatalf("pod status %+v %v", s, st.Info)
	}
	for _, f := range []*runtime.PodSandboxFilter{
		{Id: podID[:12]},
		{LabelSelector: map[string]string{"app": "ident"}},
		{State: &runtime.PodSandboxStateValue{State: runtime.PodSandboxState_SANDBOX_READY}},
	} {
		list, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{Filter: f})
		if err != nil || len(list.Items) != 1 || list.Items[0].Id != podID {
			t.Errorf("filter %v: %v %v", f, list, err)
		}
	}
	list, _ := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{LabelSelector: map[string]string{"app": "other"}}})
	if len(list.Items) != 0 {
		t.Errorf("label filter matched %v", list.Items)
	}
}

func TestStopAndRemovePodAreIdempotent(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "idem")
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))
	for i := 0; i < 2; i++ {
		if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
			t.Fatalf("stop %d: %v", i, err)
		}
	}
	if st := ctrStatus(t, b, id); st.State != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("container of a stopped pod: %v", st.State)
	}
	ps, _ := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
	if ps.Status.State != runtime.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("stopped pod is %v", ps.Status.State)
	}
	if entries, _ := os.ReadDir(filepath.Join(b.State, "pods", podID, "ns")); len(entries) != 0 {
		t.Fatalf("stopped pod keeps namespaces pinned: %v", entries)
	}
	// Creating in a stopped pod is refused.
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: ctrConfig("late", img, "true"), SandboxConfig: pod})
	if code := statusCode(err); code != "FailedPrecondition" {
		t.Fatalf("create in stopped pod: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
			t.Fatalf("remove %d: %v", i, err)
		}
	}
	if _, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id}); statusCode(err) != "NotFound" {
		t.Fatalf("container of removed pod: %v", err)
	}
	b.assertNoLeaks()
}

func statusCode(err error) string {
	if err == nil {
		return "OK"
	}
	s := err.Error()
	if i := strings.Index(s, "code = "); i >= 0 {
		return strings.Fields(s[i+7:])[0]
	}
	return fmt.Sprint(err)
}

// TestSharedPIDNamespaceRunsInfra: a pod that shares one PID namespace
// gets berth-pause as PID 1, and its containers see each other.
func TestSharedPIDNamespaceRunsInfra(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "sharedpid")
	shared := &runtime.NamespaceOption{Pid: runtime.NamespaceMode_POD}
	pod.Linux.SecurityContext = &runtime.LinuxSandboxSecurityContext{NamespaceOptions: shared}
	podID := runPod(t, b, pod)
	a := ctrConfig("a", img, "sleep", "4321")
	a.Linux.SecurityContext.NamespaceOptions = shared
	runContainer(t, b, podID, pod, a)
	bcfg := ctrConfig("b", img, "sleep", "1000")
	bcfg.Linux.SecurityContext.NamespaceOptions = shared
	bid := runContainer(t, b, podID, pod, bcfg)
	ps := execOut(t, b, bid, "ps", "-o", "pid,args")
	if !strings.Contains(ps, "sleep 4321") || !regexpMatch(`(?m)^\s*1\s+/pause`, ps) {
		t.Fatalf("shared PID namespace:\n%s", ps)
	}
	st, _ := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if !strings.Contains(st.Info["info"], `"infraPid":`) || strings.Contains(st.Info["info"], `"infraPid":0`) {
		t.Fatalf("no infra pid: %s", st.Info["info"])
	}
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if procs := processesMentioning("/pause"); len(procs) != 0 {
		t.Fatalf("pause still runs after StopPodSandbox: %v", procs)
	}
}

func TestSeccompCapabilitiesAndDevices(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "sec")
	podID := runPod(t, b, pod)

	def := ctrConfig("default", img, "sleep", "1000")
	def.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_RuntimeDefault}
	def.Linux.SecurityContext.Capabilities = &runtime.Capability{DropCapabilities: []string{"ALL"}, AddCapabilities: []string{"NET_BIND_SERVICE"}}
	def.Devices = []*runtime.Device{{HostPath: "/dev/zero", ContainerPath: "/dev/berthzero", Permissions: "rwm"}}
	id := runContainer(t, b, podID, pod, def)
	status := execOut(t, b, id, "cat", "/proc/self/status")
	if !strings.Contains(status, "Seccomp:\t2") {
		t.Errorf("RuntimeDefault seccomp not applied:\n%s", status)
	}
	// Only CAP_NET_BIND_SERVICE (bit 10) in the bounding set.
	if !strings.Contains(status, "CapBnd:\t0000000000000400") {
		t.Errorf("capabilities: %s", grepLine(status, "CapBnd"))
	}
	if got := execOut(t, b, id, "sh", "-c", "head -c 4 /dev/berthzero | wc -c"); strings.TrimSpace(got) != "4" {
		t.Errorf("device: %q", got)
	}

	unconfined := ctrConfig("unconfined", img, "sleep", "1000")
	unconfined.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_Unconfined}
	uid := runContainer(t, b, podID, pod, unconfined)
	if s := execOut(t, b, uid, "cat", "/proc/self/status"); !strings.Contains(s, "Seccomp:\t0") || !strings.Contains(s, "CapBnd:\t00000000a80425fb") {
		t.Errorf("unconfined/default caps: %s %s", grepLine(s, "Seccomp"), grepLine(s, "CapBnd"))
	}

	profile := filepath.Join(t.TempDir(), "deny-mkdir.json")
	os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO"}]}`), 0o644)
	local := ctrConfig("local", img, "sleep", "1000")
	local.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_Localhost, LocalhostRef: profile}
	lid := runContainer(t, b, podID, pod, local)
	resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: lid, Cmd: []string{"mkdir", "/tmp/x"}, Timeout: 10})
	if err != nil || resp.ExitCode == 0 {
		t.Errorf("Localhost profile should deny mkdir: %+v %v", resp, err)
	}
}

func grepLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// TestConfiguredPauseImage: with runtime.pause_image set, the infra process
// runs from that image (pulled on first use) instead of the host's berth-pause.
func TestConfiguredPauseImage(t *testing.T) {
	ti := images(t)
	img, err := fixture.Pause(filepath.Join(filepath.Dir(berthdBin), "berth-pause"))
	if err != nil {
		t.Fatal(err)
	}
	if err := ti.reg.Push("pause:test", img); err != nil {
		t.Fatal(err)
	}
	pauseRef := ti.Ref("pause:test")
	b := startBerthd(t, fmt.Sprintf("[runtime]\npause_image = %q\n", pauseRef))
	busybox := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "pauseimg")
	shared := &runtime.NamespaceOption{Pid: runtime.NamespaceMode_POD}
	pod.Linux.SecurityContext.NamespaceOptions = shared
	podID := runPod(t, b, pod)
	cfg := ctrConfig("c", busybox, "sleep", "1000")
	cfg.Linux.SecurityContext.NamespaceOptions = shared
	id := runContainer(t, b, podID, pod, cfg)
	if ps := execOut(t, b, id, "ps", "-o", "pid,args"); !regexpMatch(`(?m)^\s*1\s+/pause`, ps) {
		t.Fatalf("PID 1 is not the pause image's process:\n%s", ps)
	}
	if imageStatus(t, b, pauseRef) == nil {
		t.Fatal("the pause image was not pulled")
	}
	if m := mountsUnder(filepath.Join(b.State, "pods", podID, "infra")); len(m) != 1 {
		t.Fatalf("infra rootfs mounts: %v", m)
	}
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if m := mountsUnder(filepath.Join(b.State, "pods", podID, "infra")); len(m) != 0 {
		t.Fatalf("infra rootfs still mounted after stop: %v", m)
	}
}

// TestAllCapabilitiesAndPrivileged: "ALL" and privileged containers get
// every capability berthd itself holds (root here lacks CAP_SYS_RESOURCE,
// which no runtime can grant), and run; a run_as_group without a user is
// refused; stopping an unknown container succeeds (idempotence).
func TestAllCapabilitiesAndPrivileged(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "allcaps")
	pod.Linux.SecurityContext.Privileged = true
	podID := runPod(t, b, pod)
	own := grepLine(readFile(t, "/proc/self/status"), "CapBnd")

	all := ctrConfig("all", img, "sleep", "1000")
	all.Linux.SecurityContext.Capabilities = &runtime.Capability{AddCapabilities: []string{"ALL"}}
	if s := execOut(t, b, runContainer(t, b, podID, pod, all), "cat", "/proc/self/status"); grepLine(s, "CapBnd") != own {
		t.Errorf("ALL: %s, berthd holds %s", grepLine(s, "CapBnd"), own)
	}
	priv := ctrConfig("priv", img, "sleep", "1000")
	priv.Linux.SecurityContext.Privileged = true
	if s := execOut(t, b, runContainer(t, b, podID, pod, priv), "cat", "/proc/self/status"); grepLine(s, "CapBnd") != own {
		t.Errorf("privileged: %s, berthd holds %s", grepLine(s, "CapBnd"), own)
	}

	group := ctrConfig("group", img, "sleep", "1000")
	group.Linux.SecurityContext.RunAsGroup = &runtime.Int64Value{Value: 1000}
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: group, SandboxConfig: pod})
	if statusCode(err) != "InvalidArgument" {
		t.Errorf("run_as_group without a user: %v", err)
	}
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: "no-such-container"}); err != nil {
		t.Errorf("stop of an unknown container: %v", err)
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
