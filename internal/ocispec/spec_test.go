package ocispec

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func TestCommandRules(t *testing.T) {
	img := imagespec.ImageConfig{Entrypoint: []string{"/ep"}, Cmd: []string{"default"}}
	cases := []struct {
		cmd, args, want []string
	}{
		{nil, nil, []string{"/ep", "default"}},
		{nil, []string{"a"}, []string{"/ep", "a"}},
		{[]string{"/bin/x"}, nil, []string{"/bin/x"}},
		{[]string{"/bin/x"}, []string{"y"}, []string{"/bin/x", "y"}},
	}
	for _, c := range cases {
		got, err := Command(&runtime.ContainerConfig{Command: c.cmd, Args: c.args}, img)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("cmd %v args %v: got %v %v, want %v", c.cmd, c.args, got, err, c.want)
		}
	}
	if _, err := Command(&runtime.ContainerConfig{}, imagespec.ImageConfig{}); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("no command: %v", err)
	}
}

func TestEnvConfigOverridesImage(t *testing.T) {
	got := Env([]string{"PATH=/bin", "A=1"}, []*runtime.KeyValue{{Key: "A", Value: []byte("2")}, {Key: "B", Value: []byte("x=y")}})
	want := []string{"PATH=/bin", "A=2", "B=x=y"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("env %v, want %v", got, want)
	}
}

func TestCapabilities(t *testing.T) {
	got, _ := Capabilities(&runtime.Capability{AddCapabilities: []string{"SYS_ADMIN"}, DropCapabilities: []string{"CAP_KILL", "net_raw"}}, AllCapabilities)
	if !contains(got, "CAP_SYS_ADMIN") || contains(got, "CAP_KILL") || contains(got, "CAP_NET_RAW") || !contains(got, "CAP_CHOWN") {
		t.Fatalf("caps %v", got)
	}
	got, _ = Capabilities(&runtime.Capability{DropCapabilities: []string{"ALL"}, AddCapabilities: []string{"NET_BIND_SERVICE"}}, AllCapabilities)
	if !reflect.DeepEqual(got, []string{"CAP_NET_BIND_SERVICE"}) {
		t.Fatalf("drop ALL add one: %v", got)
	}
	got, _ = Capabilities(&runtime.Capability{AddCapabilities: []string{"ALL"}}, AllCapabilities)
	if len(got) != len(AllCapabilities) {
		t.Fatalf("add ALL: %d caps", len(got))
	}
	if _, err := Capabilities(&runtime.Capability{AddCapabilities: []string{"CAP_BOGUS"}}, AllCapabilities); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("bogus cap: %v", err)
	}
}

func baseInput() *Input {
	return &Input{
		ID: "c1",
		Config: &runtime.ContainerConfig{
			Metadata: &runtime.ContainerMetadata{Name: "c"},
			Linux:    &runtime.LinuxContainerConfig{SecurityContext: &runtime.LinuxContainerSecurityContext{}},
		},
		Sandbox: &runtime.PodSandboxConfig{},
		Image:   imagespec.ImageConfig{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}},
		Rootfs:  "/rootfs",
		Pod: Pod{Hostname: "/pod/hostname", Hosts: "/pod/hosts", ResolvConf: "/pod/resolv.conf", Shm: "/pod/shm",
			NetNS: "/pod/ns/net", IPCNS: "/pod/ns/ipc", UTSNS: "/pod/ns/uts"},
		Host: Host{MinOOMScoreAdj: -1000},
	}
}

func mountAt(s *specs.Spec, dst string) *specs.Mount {
	for i := range s.Mounts {
		if s.Mounts[i].Destination == dst {
			return &s.Mounts[i]
		}
	}
	return nil
}

func TestGenerateDefaults(t *testing.T) {
	s, err := Generate(baseInput())
	if err != nil {
		t.Fatal(err)
	}
	if s.Root.Path != "/rootfs" || s.Root.Readonly || s.Process.Cwd != "/" || s.Process.Args[0] != "sh" {
		t.Fatalf("root/process: %+v %+v", s.Root, s.Process)
	}
	if m := mountAt(s, "/etc/hosts"); m == nil || m.Source != "/pod/hosts" {
		t.Fatalf("/etc/hosts mount %+v", m)
	}
	if m := mountAt(s, "/dev/shm"); m == nil || m.Source != "/pod/shm" {
		t.Fatalf("/dev/shm mount %+v", m)
	}
	types := map[specs.LinuxNamespaceType]string{}
	for _, ns := range s.Linux.Namespaces {
		types[ns.Type] = ns.Path
	}
	if types[specs.NetworkNamespace] != "/pod/ns/net" || types[specs.IPCNamespace] != "/pod/ns/ipc" || types[specs.UTSNamespace] != "/pod/ns/uts" {
		t.Fatalf("namespaces %v", types)
	}
	if p, ok := types[specs.PIDNamespace]; !ok || p != "" {
		t.Fatalf("a container gets its own PID namespace by default: %v", types)
	}
	if !reflect.DeepEqual(s.Process.Capabilities.Bounding, defaultCapabilities) && len(s.Process.Capabilities.Bounding) != len(defaultCapabilities) {
		t.Fatalf("caps %v", s.Process.Capabilities.Bounding)
	}
	if len(s.Linux.MaskedPaths) == 0 || s.Linux.Seccomp != nil {
		t.Fatalf("masked %v seccomp %v", s.Linux.MaskedPaths, s.Linux.Seccomp)
	}
}

func TestGenerateSecurityAndResources(t *testing.T) {
	in := baseInput()
	sc := in.Config.Linux.SecurityContext
	sc.ReadonlyRootfs = true
	sc.NoNewPrivs = true
	sc.Seccomp = &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_RuntimeDefault}
	sc.NamespaceOptions = &runtime.NamespaceOption{Network: runtime.NamespaceMode_NODE, Pid: runtime.NamespaceMode_NODE}
	in.Config.Linux.Resources = &runtime.LinuxContainerResources{MemoryLimitInBytes: 64 << 20, CpuShares: 512, CpuQuota: 50000, CpuPeriod: 100000, OomScoreAdj: -997}
	in.Host.MinOOMScoreAdj = 0
	in.Config.Mounts = []*runtime.Mount{{ContainerPath: "/data", HostPath: "/srv", Readonly: true, Propagation: runtime.MountPropagation_PROPAGATION_HOST_TO_CONTAINER}}
	s, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if !s.Root.Readonly || !s.Process.NoNewPrivileges || s.Linux.Seccomp == nil || s.Linux.Seccomp.DefaultAction != specs.ActErrno {
		t.Fatalf("security: root %+v nnp %v seccomp %v", s.Root, s.Process.NoNewPrivileges, s.Linux.Seccomp != nil)
	}
	for _, ns := range s.Linux.Namespaces {
		if ns.Type == specs.NetworkNamespace || ns.Type == specs.PIDNamespace {
			t.Fatalf("host namespaces requested, got %v", ns)
		}
	}
	if *s.Linux.Resources.Memory.Limit != 64<<20 || *s.Linux.Resources.CPU.Shares != 512 || *s.Linux.Resources.CPU.Quota != 50000 {
		t.Fatalf("resources %+v", s.Linux.Resources)
	}
	if *s.Process.OOMScoreAdj != 0 {
		t.Fatalf("oom_score_adj %d, want clamped to 0", *s.Process.OOMScoreAdj)
	}
	m := mountAt(s, "/data")
	if m == nil || !reflect.DeepEqual(m.Options, []string{"rbind", "rslave", "ro"}) {
		t.Fatalf("bind mount %+v", m)
	}
	if mountAt(s, "/etc/hosts").Options[len(mountAt(s, "/etc/hosts").Options)-1] != "ro" {
		t.Fatal("pod files must be read-only in a read-only rootfs")
	}
}

func TestPrivilegedNeedsPrivilegedPod(t *testing.T) {
	in := baseInput()
	in.Config.Linux.SecurityContext.Privileged = true
	if _, err := Generate(in); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("want InvalidArgument, got %v", err)
	}
	in.Sandbox.Linux = &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{Privileged: true}}
	s, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Process.Capabilities.Bounding) != len(AllCapabilities) || s.Linux.MaskedPaths != nil {
		t.Fatalf("privileged spec: %d caps, masked %v", len(s.Process.Capabilities.Bounding), s.Linux.MaskedPaths)
	}
}

func TestResolveUser(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	os.WriteFile(filepath.Join(root, "etc/passwd"), []byte("root:x:0:0::/root:/bin/sh\nberth:x:1000:1000::/home:/bin/sh\n"), 0o644)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("root:x:0:\nberth:x:1000:\nextra:x:2000:berth\n"), 0o644)
	cases := []struct {
		name  string
		sc    *runtime.LinuxContainerSecurityContext
		image string
		want  User
	}{
		{"image default root", &runtime.LinuxContainerSecurityContext{}, "", User{}},
		{"image user name", &runtime.LinuxContainerSecurityContext{}, "berth", User{UID: 1000, GID: 1000, AdditionalGids: []uint32{2000}}},
		{"image uid:gid", &runtime.LinuxContainerSecurityContext{}, "1000:5", User{UID: 1000, GID: 5, AdditionalGids: []uint32{2000}}},
		{"run as user", &runtime.LinuxContainerSecurityContext{RunAsUser: &runtime.Int64Value{Value: 1000}}, "", User{UID: 1000, GID: 1000, AdditionalGids: []uint32{2000}}},
		{"unknown uid", &runtime.LinuxContainerSecurityContext{RunAsUser: &runtime.Int64Value{Value: 4242}}, "", User{UID: 4242}},
		{"run as group + supplemental", &runtime.LinuxContainerSecurityContext{RunAsUser: &runtime.Int64Value{Value: 1000},
			RunAsGroup: &runtime.Int64Value{Value: 3000}, SupplementalGroups: []int64{4000}}, "", User{UID: 1000, GID: 3000, AdditionalGids: []uint32{2000, 4000}}},
		{"run as username", &runtime.LinuxContainerSecurityContext{RunAsUsername: "berth"}, "root", User{UID: 1000, GID: 1000, AdditionalGids: []uint32{2000}}},
	}
	for _, c := range cases {
		got, err := ResolveUser(root, c.sc, c.image)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: got %+v %v, want %+v", c.name, got, err, c.want)
		}
	}
	if _, err := ResolveUser(root, &runtime.LinuxContainerSecurityContext{}, "nobody"); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("unknown user name: %v", err)
	}
	// A passwd that is a symlink out of the rootfs is read inside it.
	os.Remove(filepath.Join(root, "etc/passwd"))
	os.Symlink("/etc/passwd", filepath.Join(root, "etc/passwd"))
	if _, err := ResolveUser(root, &runtime.LinuxContainerSecurityContext{}, "root"); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Errorf("passwd symlinked to the host's must not be read: %v", err)
	}
}

func TestGenerateWithoutLinuxConfig(t *testing.T) {
	in := baseInput()
	in.Config.Linux = nil
	in.Sandbox = &runtime.PodSandboxConfig{}
	s, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Linux.MaskedPaths) == 0 || s.Process.Capabilities == nil {
		t.Fatalf("defaults missing: %+v", s.Linux)
	}
}

func TestRootfsPropagationFollowsMounts(t *testing.T) {
	for prop, want := range map[runtime.MountPropagation]string{
		runtime.MountPropagation_PROPAGATION_PRIVATE:           "",
		runtime.MountPropagation_PROPAGATION_HOST_TO_CONTAINER: "rslave",
		runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL:     "rshared",
	} {
		in := baseInput()
		in.Config.Mounts = []*runtime.Mount{{ContainerPath: "/data", HostPath: "/srv", Propagation: prop}}
		s, err := Generate(in)
		if err != nil {
			t.Fatal(err)
		}
		if s.Linux.RootfsPropagation != want {
			t.Errorf("%v: rootfs propagation %q, want %q", prop, s.Linux.RootfsPropagation, want)
		}
	}
}

func TestHugepageLimitsFollowTheHost(t *testing.T) {
	r := &runtime.LinuxContainerResources{HugepageLimits: []*runtime.HugepageLimit{{PageSize: "2MB", Limit: 0}, {PageSize: "1GB", Limit: 0}}}
	for _, c := range []struct {
		h     Hugetlb
		limit int
		err   bool
	}{
		{Hugetlb{Policy: "auto", Usable: false}, 0, false},
		{Hugetlb{Policy: "auto", Usable: true}, 2, false},
		{Hugetlb{Policy: "off", Usable: true}, 0, false},
		{Hugetlb{Policy: "strict", Usable: true}, 2, false},
		{Hugetlb{Policy: "strict", Usable: false}, 0, true},
	} {
		s := &specs.Spec{Process: &specs.Process{}, Linux: &specs.Linux{Resources: &specs.LinuxResources{}}}
		err := setResources(s, r, Host{Hugetlb: c.h})
		if c.err {
			if !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
				t.Errorf("%+v: %v, want FailedPrecondition", c.h, err)
			}
			continue
		}
		if err != nil || len(s.Linux.Resources.HugepageLimits) != c.limit {
			t.Errorf("%+v: %d limits %v, want %d", c.h, len(s.Linux.Resources.HugepageLimits), err, c.limit)
		}
	}
}

func TestUserNamespaceJoinsThePodsAndMayBeUnmasked(t *testing.T) {
	in := baseInput()
	in.Pod.UserNS = "/pod/ns/user"
	in.Pod.UIDMappings = []specs.LinuxIDMapping{{ContainerID: 0, HostID: 100000, Size: 65536}}
	in.Pod.GIDMappings = in.Pod.UIDMappings
	s, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, ns := range s.Linux.Namespaces {
		found = found || ns.Type == specs.UserNamespace && ns.Path == "/pod/ns/user"
	}
	if !found || len(s.Linux.UIDMappings) != 1 || s.Linux.GIDMappings[0].HostID != 100000 {
		t.Fatalf("user namespace %v, mappings %v %v", s.Linux.Namespaces, s.Linux.UIDMappings, s.Linux.GIDMappings)
	}
	// procMount: Unmasked (empty lists) in a user namespace.
	if s.Linux.MaskedPaths != nil || s.Linux.ReadonlyPaths != nil {
		t.Fatalf("unmasked: %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths)
	}
	// procMount: Default (the kubelet sends its lists).
	in.Config.Linux.SecurityContext.MaskedPaths = []string{"/proc/kcore"}
	in.Config.Linux.SecurityContext.ReadonlyPaths = []string{"/proc/sys"}
	if s, err = Generate(in); err != nil || len(s.Linux.MaskedPaths) != 1 || len(s.Linux.ReadonlyPaths) != 1 {
		t.Fatalf("default: %v %v %v", s.Linux.MaskedPaths, s.Linux.ReadonlyPaths, err)
	}
	// Without a user namespace no lists keep berth's defaults.
	in.Pod.UserNS, in.Config.Linux.SecurityContext.MaskedPaths, in.Config.Linux.SecurityContext.ReadonlyPaths = "", nil, nil
	if s, err = Generate(in); err != nil || len(s.Linux.MaskedPaths) != len(defaultMaskedPaths) {
		t.Fatalf("host user namespace: %v %v", s.Linux.MaskedPaths, err)
	}
}

func TestMountOptionsReachTheRuntime(t *testing.T) {
	in := baseInput()
	in.Config.Mounts = []*runtime.Mount{{ContainerPath: "/data", HostPath: "/srv", Readonly: true, MountOptions: []string{"noexec", "ro", "nosuid"}}}
	s, err := Generate(in)
	if err != nil {
		t.Fatal(err)
	}
	m := mountAt(s, "/data")
	if m == nil || !reflect.DeepEqual(m.Options, []string{"rbind", "rprivate", "ro", "noexec", "nosuid"}) {
		t.Fatalf("/data mount %+v", m)
	}
}
