package ocispec

import (
	"path"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/validate"
)

// FuzzGenerate sends random, valid-shaped container requests through the
// same validation and translation berthd uses. It never panics, and a
// spec it produces never grants more than was asked: capabilities within
// the defaults plus what was added, the default masked and read-only paths
// unless replaced, seccomp when asked, the pod's namespaces, the asked
// user, and no mount over / or /proc.
func FuzzGenerate(f *testing.F) {
	f.Add(false, false, false, int64(1000), "NET_ADMIN", "KILL", int32(1), "", "/data", "net.ipv4.ip_forward", int32(0))
	f.Add(true, true, true, int64(0), "ALL", "", int32(0), "/proc/kcore", "/proc", "kernel.panic", int32(2))
	f.Add(false, true, false, int64(1<<40), "CAP_BOGUS", "ALL", int32(9), "nil", "/", "kernel.shm_rmid_forced", int32(1))
	f.Add(false, false, true, int64(-1), "sys_admin,chown", "all", int32(2), "/a,/b", "/proc/sys/kernel", "", int32(3))
	f.Fuzz(func(t *testing.T, privileged, readonly, noNewPrivs bool, uid int64, add, drop string, seccompType int32,
		masked, mountPath, sysctl string, pidMode int32) {
		cfg := &runtime.ContainerConfig{
			Metadata: &runtime.ContainerMetadata{Name: "f"},
			Image:    &runtime.ImageSpec{Image: "img"},
			Command:  []string{"/bin/sh"},
			Mounts:   []*runtime.Mount{{ContainerPath: mountPath, HostPath: "/srv"}},
			Linux: &runtime.LinuxContainerConfig{SecurityContext: &runtime.LinuxContainerSecurityContext{
				Privileged: privileged, ReadonlyRootfs: readonly, NoNewPrivs: noNewPrivs,
				RunAsUser:        &runtime.Int64Value{Value: uid},
				Capabilities:     &runtime.Capability{AddCapabilities: splitList(add), DropCapabilities: splitList(drop)},
				Seccomp:          &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_ProfileType(seccompType)},
				NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode(pidMode)},
			}},
		}
		if seccompType == int32(runtime.SecurityProfile_Localhost) {
			cfg.Linux.SecurityContext.Seccomp.LocalhostRef = "/p.json"
		}
		if masked != "nil" {
			cfg.Linux.SecurityContext.MaskedPaths = splitList(masked)
		}
		sandbox := &runtime.PodSandboxConfig{
			Metadata: &runtime.PodSandboxMetadata{Name: "p", Namespace: "n", Uid: "u"},
			Linux: &runtime.LinuxPodSandboxConfig{Sysctls: map[string]string{sysctl: "1"},
				SecurityContext: &runtime.LinuxSandboxSecurityContext{Privileged: privileged}},
		}
		if validate.Container(cfg) != nil || validate.PodSandbox(sandbox) != nil {
			return // refused before anything is made
		}
		in := &Input{ID: "c", Config: cfg, Sandbox: sandbox, Rootfs: "/rootfs",
			Pod:            Pod{NetNS: "/run/netns/p", IPCNS: "/run/ipc/p", UTSNS: "/run/uts/p"},
			User:           User{UID: uint32(uid)},
			SeccompProfile: []byte(`{"defaultAction":"SCMP_ACT_ERRNO"}`),
			Host:           Host{Capabilities: []string{"CAP_CHOWN", "CAP_SYS_ADMIN", "CAP_NET_ADMIN", "CAP_KILL"}},
		}
		s, err := Generate(in)
		if err != nil {
			return
		}
		if s.Process.User.UID != uint32(uid) || uid < 0 || uid > validate.MaxID {
			t.Fatalf("user %d, asked %d", s.Process.User.UID, uid)
		}
		if readonly != s.Root.Readonly || noNewPrivs != s.Process.NoNewPrivileges {
			t.Fatalf("readonly %v/%v no_new_privs %v/%v", readonly, s.Root.Readonly, noNewPrivs, s.Process.NoNewPrivileges)
		}
		for _, m := range s.Mounts {
			if d := path.Clean(m.Destination); d == "/" || (d == "/proc" && m.Type != "proc") {
				t.Fatalf("mount over %s", d)
			}
		}
		if !hasNamespace(s.Linux.Namespaces, "mount", "") || !hasNamespace(s.Linux.Namespaces, "network", in.Pod.NetNS) ||
			!hasNamespace(s.Linux.Namespaces, "ipc", in.Pod.IPCNS) || !hasNamespace(s.Linux.Namespaces, "uts", in.Pod.UTSNS) {
			t.Fatalf("namespaces %v", s.Linux.Namespaces)
		}
		if pidMode != int32(runtime.NamespaceMode_NODE) && !hasNamespace(s.Linux.Namespaces, "pid", "") {
			t.Fatalf("pid mode %d without a pid namespace: %v", pidMode, s.Linux.Namespaces)
		}
		if seccompType == int32(runtime.SecurityProfile_RuntimeDefault) || seccompType == int32(runtime.SecurityProfile_Localhost) {
			if s.Linux.Seccomp == nil && !privileged {
				t.Fatal("seccomp asked, none in the spec")
			}
		}
		if privileged {
			return // asked for everything the host has
		}
		allowed := map[string]bool{}
		for _, c := range defaultCapabilities {
			allowed[c] = true
		}
		for _, a := range splitList(add) {
			n := strings.ToUpper(a)
			if !strings.HasPrefix(n, "CAP_") {
				n = "CAP_" + n
			}
			allowed[n] = true
			if n == "CAP_ALL" {
				for _, h := range in.Host.Capabilities {
					allowed[h] = true
				}
			}
		}
		for _, set := range [][]string{s.Process.Capabilities.Bounding, s.Process.Capabilities.Effective, s.Process.Capabilities.Permitted} {
			for _, c := range set {
				if !allowed[c] {
					t.Fatalf("capability %s not asked for (add %q)", c, add)
				}
			}
		}
		if len(s.Process.Capabilities.Inheritable) != 0 || len(s.Process.Capabilities.Ambient) != 0 {
			t.Fatalf("inheritable/ambient capabilities %v", s.Process.Capabilities)
		}
		if masked == "nil" && !sameSet(s.Linux.MaskedPaths, defaultMaskedPaths) {
			t.Fatalf("masked paths %v", s.Linux.MaskedPaths)
		}
		if !sameSet(s.Linux.ReadonlyPaths, defaultReadonlyPaths) {
			t.Fatalf("read-only paths %v", s.Linux.ReadonlyPaths)
		}
		if len(s.Linux.Devices) != 0 {
			t.Fatalf("devices %v", s.Linux.Devices)
		}
	})
}

func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func hasNamespace(ns []specs.LinuxNamespace, typ, p string) bool {
	for _, n := range ns {
		if string(n.Type) == typ && n.Path == p {
			return true
		}
	}
	return false
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]int{}
	for _, x := range a {
		seen[x]++
	}
	for _, x := range b {
		seen[x]--
	}
	for _, n := range seen {
		if n != 0 {
			return false
		}
	}
	return true
}
