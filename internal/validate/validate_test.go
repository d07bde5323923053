package validate

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func goodPod() *runtime.PodSandboxConfig {
	return &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: "web", Namespace: "default", Uid: "0b6f-11"},
		Hostname:     "web",
		LogDirectory: "/var/log/pods/default_web_0b6f-11",
		DnsConfig:    &runtime.DNSConfig{Servers: []string{"10.0.0.10", "fe80::1%eth0"}, Searches: []string{"svc.cluster.local"}, Options: []string{"ndots:5"}},
		PortMappings: []*runtime.PortMapping{{ContainerPort: 80, HostPort: 8080, HostIp: "127.0.0.1"}},
		Linux: &runtime.LinuxPodSandboxConfig{
			CgroupParent: "/kubepods/burstable/pod0b6f",
			Sysctls:      map[string]string{"net.ipv4.ip_unprivileged_port_start": "0", "kernel.shm_rmid_forced": "1", "net/ipv4/ping_group_range": "0 1"},
			SecurityContext: &runtime.LinuxSandboxSecurityContext{
				RunAsUser: &runtime.Int64Value{Value: 1000}, RunAsGroup: &runtime.Int64Value{Value: MaxID},
				SupplementalGroups: []int64{0, 5},
				Seccomp:            &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_RuntimeDefault},
				NamespaceOptions:   &runtime.NamespaceOption{UsernsOptions: &runtime.UserNamespace{Mode: runtime.NamespaceMode_NODE}},
			},
		},
	}
}

func goodContainer() *runtime.ContainerConfig {
	return &runtime.ContainerConfig{
		Metadata:   &runtime.ContainerMetadata{Name: "app"},
		Image:      &runtime.ImageSpec{Image: "busybox"},
		Command:    []string{"sh", "-c", "echo hi"},
		WorkingDir: "/srv",
		Envs:       []*runtime.KeyValue{{Key: "A", Value: []byte("b=c")}},
		Mounts: []*runtime.Mount{
			{ContainerPath: "/data", HostPath: "/srv/data"},
			{ContainerPath: "/proc/meminfo", HostPath: "/var/lib/lxcfs/proc/meminfo"},
		},
		Devices: []*runtime.Device{{ContainerPath: "/dev/fuse", HostPath: "/dev/fuse", Permissions: "rw"}},
		Linux: &runtime.LinuxContainerConfig{
			Resources: &runtime.LinuxContainerResources{
				CpuPeriod: 100000, CpuQuota: 50000, CpuShares: 512, MemoryLimitInBytes: 64 << 20, OomScoreAdj: 1000,
				CpusetCpus: "0-1,3", HugepageLimits: []*runtime.HugepageLimit{{PageSize: "2MB"}, {PageSize: "1GB"}},
				Unified: map[string]string{"memory.high": "max"},
			},
			SecurityContext: &runtime.LinuxContainerSecurityContext{
				RunAsUser: &runtime.Int64Value{Value: 0}, RunAsGroup: &runtime.Int64Value{Value: 0},
				MaskedPaths: []string{"/proc/kcore"},
				Seccomp:     &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_Localhost, LocalhostRef: "/var/lib/kubelet/seccomp/p.json"},
			},
		},
	}
}

func TestGoodRequestsPass(t *testing.T) {
	if err := PodSandbox(goodPod()); err != nil {
		t.Fatalf("pod: %v", err)
	}
	if err := Container(goodContainer()); err != nil {
		t.Fatalf("container: %v", err)
	}
	if err := Resources("linux", nil); err != nil {
		t.Fatal(err)
	}
}

func TestPodSandboxRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(*runtime.PodSandboxConfig)
		field  string
	}{
		{"no metadata", func(c *runtime.PodSandboxConfig) { c.Metadata = nil }, "config.metadata"},
		{"no uid", func(c *runtime.PodSandboxConfig) { c.Metadata.Uid = "" }, "config.metadata.uid"},
		{"CNI arg in name", func(c *runtime.PodSandboxConfig) { c.Metadata.Name = "x;IP=10.93.9.9" }, "config.metadata.name"},
		{"CNI arg in namespace", func(c *runtime.PodSandboxConfig) { c.Metadata.Namespace = "a;IgnoreUnknown=1;IP=10.9.9.9" }, "config.metadata.namespace"},
		{"equals in uid", func(c *runtime.PodSandboxConfig) { c.Metadata.Uid = "a=b" }, "config.metadata.uid"},
		{"NUL in name", func(c *runtime.PodSandboxConfig) { c.Metadata.Name = "a\x00b" }, "config.metadata.name"},
		{"newline in name", func(c *runtime.PodSandboxConfig) { c.Metadata.Name = "a\nb" }, "config.metadata.name"},
		{"long hostname", func(c *runtime.PodSandboxConfig) { c.Hostname = strings.Repeat("h", 65) }, "config.hostname"},
		{"relative log dir", func(c *runtime.PodSandboxConfig) { c.LogDirectory = "logs" }, "config.log_directory"},
		{"dns server", func(c *runtime.PodSandboxConfig) { c.DnsConfig.Servers = []string{"not-an-ip"} }, "config.dns_config.servers[0]"},
		{"dns search newline", func(c *runtime.PodSandboxConfig) { c.DnsConfig.Searches = []string{"a\nnameserver 6.6.6.6"} }, "config.dns_config.searches[0]"},
		{"dns option space", func(c *runtime.PodSandboxConfig) { c.DnsConfig.Options = []string{"a b"} }, "config.dns_config.options[0]"},
		{"container port 0", func(c *runtime.PodSandboxConfig) { c.PortMappings[0].ContainerPort = 0 }, "config.port_mappings[0].container_port"},
		{"container port 65536", func(c *runtime.PodSandboxConfig) { c.PortMappings[0].ContainerPort = 65536 }, "config.port_mappings[0].container_port"},
		{"host port -1", func(c *runtime.PodSandboxConfig) { c.PortMappings[0].HostPort = -1 }, "config.port_mappings[0].host_port"},
		{"host ip", func(c *runtime.PodSandboxConfig) { c.PortMappings[0].HostIp = "localhost" }, "config.port_mappings[0].host_ip"},
		{"protocol", func(c *runtime.PodSandboxConfig) { c.PortMappings[0].Protocol = 7 }, "config.port_mappings[0].protocol"},
		{"cgroup parent relative", func(c *runtime.PodSandboxConfig) { c.Linux.CgroupParent = "kubepods" }, "config.linux.cgroup_parent"},
		{"cgroup parent climbs", func(c *runtime.PodSandboxConfig) { c.Linux.CgroupParent = "/kubepods/../../x" }, "config.linux.cgroup_parent"},
		{"node sysctl", func(c *runtime.PodSandboxConfig) { c.Linux.Sysctls = map[string]string{"kernel.panic": "1"} }, "kernel.panic"},
		{"node sysctl with slashes", func(c *runtime.PodSandboxConfig) { c.Linux.Sysctls = map[string]string{"kernel/printk_ratelimit": "1"} }, "kernel/printk_ratelimit"},
		{"vm sysctl", func(c *runtime.PodSandboxConfig) { c.Linux.Sysctls = map[string]string{"vm.overcommit_memory": "1"} }, "vm.overcommit_memory"},
		{"net sysctl on host network", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.Network = runtime.NamespaceMode_NODE
		}, "belongs to the network namespace"},
		{"ipc sysctl on host ipc", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.Ipc = runtime.NamespaceMode_NODE
		}, "kernel.shm_rmid_forced"},
		{"sysctl value newline", func(c *runtime.PodSandboxConfig) { c.Linux.Sysctls = map[string]string{"net.core.somaxconn": "1\n2"} }, "net.core.somaxconn"},
		{"run_as_user 2^40", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.RunAsUser.Value = 1 << 40 }, "config.linux.security_context.run_as_user"},
		{"run_as_user 2^32+1000", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.RunAsUser.Value = 1<<32 + 1000 }, "run_as_user"},
		{"run_as_user 2^31", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.RunAsUser.Value = 1 << 31 }, "run_as_user"},
		{"run_as_user -1", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.RunAsUser.Value = -1 }, "run_as_user"},
		{"run_as_group 2^32", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.RunAsGroup.Value = 1 << 32 }, "config.linux.security_context.run_as_group"},
		{"supplemental group", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.SupplementalGroups = []int64{5, -2} }, "supplemental_groups[1]"},
		{"groups policy", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.SupplementalGroupsPolicy = 5 }, "supplemental_groups_policy"},
		{"seccomp type 9", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.Seccomp.ProfileType = 9 }, "config.linux.security_context.seccomp.profile_type"},
		{"apparmor type", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.Apparmor = &runtime.SecurityProfile{ProfileType: -1}
		}, "apparmor.profile_type"},
		{"localhost without ref", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_Localhost}
		}, "seccomp.localhost_ref"},
		{"network mode", func(c *runtime.PodSandboxConfig) { c.Linux.SecurityContext.NamespaceOptions.Network = 9 }, "namespace_options.network"},
		{"pid mode target in pod", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.Pid = runtime.NamespaceMode_TARGET
		}, "namespace_options.pid"},
		{"user namespace CONTAINER", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Mode = runtime.NamespaceMode_CONTAINER
		}, "userns_options.mode"},
		{"user namespace TARGET", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Mode = runtime.NamespaceMode_TARGET
		}, "userns_options.mode"},
		{"user namespace POD without mappings", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Mode = runtime.NamespaceMode_POD
		}, "userns_options.uids"},
		{"user namespace NODE with mappings", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions.Uids = podUserns().Uids
		}, "userns_options"},
		{"user namespace two uid mappings", func(c *runtime.PodSandboxConfig) {
			u := podUserns()
			u.Uids = append(u.Uids, &runtime.IDMapping{ContainerId: 0, HostId: 2000, Length: 100000})
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions = u
		}, "userns_options.uids"},
		{"user namespace root unmapped", func(c *runtime.PodSandboxConfig) {
			u := podUserns()
			u.Gids[0].ContainerId = 1
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions = u
		}, "userns_options.gids[0].container_id"},
		{"user namespace maps host root", func(c *runtime.PodSandboxConfig) {
			u := podUserns()
			u.Uids[0].HostId = 0
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions = u
		}, "userns_options.uids[0].host_id"},
		{"user namespace past the last ID", func(c *runtime.PodSandboxConfig) {
			u := podUserns()
			u.Uids[0].HostId = 1<<32 - 10
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions = u
		}, "userns_options.uids[0]"},
		{"user namespace empty mapping", func(c *runtime.PodSandboxConfig) {
			u := podUserns()
			u.Gids[0].Length = 0
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions = u
		}, "userns_options.gids[0].length"},
		{"user namespace with host network", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.NamespaceOptions.UsernsOptions = podUserns()
			c.Linux.SecurityContext.NamespaceOptions.Network = runtime.NamespaceMode_NODE
			c.Linux.Sysctls = nil
		}, "namespace_options.network"},
		{"overhead", func(c *runtime.PodSandboxConfig) {
			c.Linux.Overhead = &runtime.LinuxContainerResources{CpuShares: 1}
		}, "config.linux.overhead.cpu_shares"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := goodPod()
			tc.change(cfg)
			expectField(t, PodSandbox(cfg), tc.field)
		})
	}
}

// podUserns is a user namespace as the kubelet asks for one.
func podUserns() *runtime.UserNamespace {
	return &runtime.UserNamespace{
		Mode: runtime.NamespaceMode_POD,
		Uids: []*runtime.IDMapping{{ContainerId: 0, HostId: 65536, Length: 65536}},
		Gids: []*runtime.IDMapping{{ContainerId: 0, HostId: 65536, Length: 65536}},
	}
}

func TestPodUserNamespaceIsAccepted(t *testing.T) {
	cfg := goodPod()
	cfg.Linux.SecurityContext.NamespaceOptions.UsernsOptions = podUserns()
	if err := PodSandbox(cfg); err != nil {
		t.Fatal(err)
	}
}

func TestContainerRefuses(t *testing.T) {
	cases := []struct {
		name   string
		change func(*runtime.ContainerConfig)
		field  string
	}{
		{"no metadata", func(c *runtime.ContainerConfig) { c.Metadata = nil }, "config.metadata"},
		{"no image", func(c *runtime.ContainerConfig) { c.Image = nil }, "config.image"},
		{"slash in name", func(c *runtime.ContainerConfig) { c.Metadata.Name = "../x" }, "config.metadata.name"},
		{"NUL in arg", func(c *runtime.ContainerConfig) { c.Args = []string{"a\x00"} }, "config.args[0]"},
		{"NUL in command", func(c *runtime.ContainerConfig) { c.Command = []string{"sh", "\x00"} }, "config.command[1]"},
		{"relative working dir", func(c *runtime.ContainerConfig) { c.WorkingDir = "srv" }, "config.working_dir"},
		{"empty env key", func(c *runtime.ContainerConfig) { c.Envs = []*runtime.KeyValue{{Key: ""}} }, "config.envs[0].key"},
		{"env key with =", func(c *runtime.ContainerConfig) { c.Envs = append(c.Envs, &runtime.KeyValue{Key: "A=B"}) }, "config.envs[1].key"},
		{"env value NUL", func(c *runtime.ContainerConfig) { c.Envs[0].Value = []byte("a\x00") }, "config.envs[0].value"},
		{"mount onto /", func(c *runtime.ContainerConfig) { c.Mounts[0].ContainerPath = "/" }, "config.mounts[0].container_path"},
		{"mount onto /proc", func(c *runtime.ContainerConfig) { c.Mounts[0].ContainerPath = "/proc" }, "config.mounts[0].container_path"},
		{"mount onto /proc/sys/kernel", func(c *runtime.ContainerConfig) { c.Mounts[1].ContainerPath = "/proc/sys/kernel" }, "config.mounts[1].container_path"},
		{"mount onto /proc by ..", func(c *runtime.ContainerConfig) { c.Mounts[0].ContainerPath = "/data/../proc/1" }, "config.mounts[0].container_path"},
		{"mount onto /// ", func(c *runtime.ContainerConfig) { c.Mounts[0].ContainerPath = "///" }, "config.mounts[0].container_path"},
		{"relative mount", func(c *runtime.ContainerConfig) { c.Mounts[0].ContainerPath = "data" }, "config.mounts[0].container_path"},
		{"relative host path", func(c *runtime.ContainerConfig) { c.Mounts[0].HostPath = "srv" }, "config.mounts[0].host_path"},
		{"propagation", func(c *runtime.ContainerConfig) { c.Mounts[0].Propagation = 3 }, "config.mounts[0].propagation"},
		{"mount option comma", func(c *runtime.ContainerConfig) { c.Mounts[0].MountOptions = []string{"ro,suid"} }, "config.mounts[0].mount_options[0]"},
		{"mount option suid", func(c *runtime.ContainerConfig) { c.Mounts[0].MountOptions = []string{"noexec", "suid"} }, "config.mounts[0].mount_options[1]"},
		{"mount option rshared", func(c *runtime.ContainerConfig) { c.Mounts[0].MountOptions = []string{"rshared"} }, "config.mounts[0].mount_options[0]"},
		{"mount option ro on a writable mount", func(c *runtime.ContainerConfig) {
			c.Mounts[0].Readonly = false
			c.Mounts[0].MountOptions = []string{"ro"}
		}, "config.mounts[0].mount_options[0]"},
		{"device path", func(c *runtime.ContainerConfig) { c.Devices[0].HostPath = "fuse" }, "config.devices[0].host_path"},
		{"device permissions", func(c *runtime.ContainerConfig) { c.Devices[0].Permissions = "rwx" }, "config.devices[0].permissions"},
		{"cpuset garbage", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpusetCpus = "garbage" }, "config.linux.resources.cpuset_cpus"},
		{"cpuset backwards", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpusetCpus = "3-1" }, "cpuset_cpus"},
		{"cpuset mems", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpusetMems = "0,,1" }, "config.linux.resources.cpuset_mems"},
		{"memory 1 byte", func(c *runtime.ContainerConfig) { c.Linux.Resources.MemoryLimitInBytes = 1 }, "config.linux.resources.memory_limit_in_bytes"},
		{"memory negative", func(c *runtime.ContainerConfig) { c.Linux.Resources.MemoryLimitInBytes = -5 }, "memory_limit_in_bytes"},
		{"swap below memory", func(c *runtime.ContainerConfig) { c.Linux.Resources.MemorySwapLimitInBytes = 1 << 20 }, "memory_swap_limit_in_bytes"},
		{"cpu shares 1", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpuShares = 1 }, "cpu_shares"},
		{"cpu shares big", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpuShares = 262145 }, "cpu_shares"},
		{"cpu period", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpuPeriod = 999 }, "cpu_period"},
		{"cpu quota", func(c *runtime.ContainerConfig) { c.Linux.Resources.CpuQuota = 5 }, "cpu_quota"},
		{"oom score", func(c *runtime.ContainerConfig) { c.Linux.Resources.OomScoreAdj = 1001 }, "oom_score_adj"},
		{"hugepage size", func(c *runtime.ContainerConfig) { c.Linux.Resources.HugepageLimits[1].PageSize = "3MB" }, "hugepage_limits[1].page_size"},
		{"hugepage unit", func(c *runtime.ContainerConfig) { c.Linux.Resources.HugepageLimits[0].PageSize = "2Mi" }, "hugepage_limits[0].page_size"},
		{"unified ..", func(c *runtime.ContainerConfig) {
			c.Linux.Resources.Unified = map[string]string{"../../cgroup.procs": "1"}
		}, "unified"},
		{"unified slash", func(c *runtime.ContainerConfig) { c.Linux.Resources.Unified = map[string]string{"memory/high": "1"} }, "unified"},
		{"unified no dot", func(c *runtime.ContainerConfig) { c.Linux.Resources.Unified = map[string]string{"memory": "1"} }, "unified"},
		{"unified value", func(c *runtime.ContainerConfig) { c.Linux.Resources.Unified = map[string]string{"memory.high": "1\n2"} }, "unified"},
		{"run_as_user 2^40", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.RunAsUser.Value = 1 << 40 }, "config.linux.security_context.run_as_user"},
		{"run_as_user -1", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.RunAsUser.Value = -1 }, "config.linux.security_context.run_as_user"},
		{"run_as_group 2^32+1000", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.RunAsGroup.Value = 1<<32 + 1000 }, "config.linux.security_context.run_as_group"},
		{"run_as_group alone", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.RunAsUser = nil }, "run_as_group"},
		{"supplemental group", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.SupplementalGroups = []int64{1 << 33} }, "supplemental_groups[0]"},
		{"masked path", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.MaskedPaths = []string{"proc/kcore"} }, "masked_paths[0]"},
		{"readonly path", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.ReadonlyPaths = []string{""} }, "readonly_paths[0]"},
		{"seccomp type 9", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.Seccomp.ProfileType = 9 }, "config.linux.security_context.seccomp.profile_type"},
		{"seccomp ref on default", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.Seccomp.ProfileType = runtime.SecurityProfile_RuntimeDefault
		}, "seccomp.localhost_ref"},
		{"deprecated seccomp path", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.Seccomp = nil
			c.Linux.SecurityContext.SeccompProfilePath = "runtime/default"
		}, "seccomp_profile_path"},
		{"pid target without id", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.NamespaceOptions = &runtime.NamespaceOption{Pid: runtime.NamespaceMode_TARGET}
		}, "namespace_options.pid"},
		{"ipc container mode", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.NamespaceOptions = &runtime.NamespaceOption{Ipc: runtime.NamespaceMode_CONTAINER}
		}, "namespace_options.ipc"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := goodContainer()
			tc.change(cfg)
			expectField(t, Container(cfg), tc.field)
		})
	}
}

// TestBoundaries checks both sides of each limit.
func TestBoundaries(t *testing.T) {
	for _, v := range []int64{0, 1, MaxID} {
		if err := id("f", v); err != nil {
			t.Errorf("id %d: %v", v, err)
		}
	}
	for _, v := range []int64{-1, MaxID + 1, 1 << 62} {
		expectField(t, id("f", v), "f")
	}
	r := func(mem int64) *runtime.LinuxContainerResources {
		return &runtime.LinuxContainerResources{MemoryLimitInBytes: mem}
	}
	if err := Resources("r", r(MinMemoryLimit)); err != nil {
		t.Error(err)
	}
	expectField(t, Resources("r", r(MinMemoryLimit-1)), "r.memory_limit_in_bytes")
	for _, ok := range []string{"net.ipv4.tcp_syncookies", "kernel.msgmax", "fs.mqueue.msg_max", "net/ipv4/conf/all/forwarding"} {
		if err := Sysctl(ok, "1", false, false); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, s := range []string{"2MB", "1GB", "64KB"} {
		if err := PageSize("p", s); err != nil {
			t.Errorf("%s: %v", s, err)
		}
	}
	for _, s := range []string{"", "MB", "0MB", "2mb", "2M"} {
		expectField(t, PageSize("p", s), "p")
	}
}

// The good configs stay good when cloned and re-validated: validation
// changes nothing.
func TestValidationDoesNotChangeTheConfig(t *testing.T) {
	c := goodContainer()
	before := proto.Clone(c)
	_ = Container(c)
	if !proto.Equal(before, c) {
		t.Fatal("Container changed its input")
	}
}

func expectField(t *testing.T, err error, field string) {
	t.Helper()
	if err == nil {
		t.Fatalf("accepted, want an error naming %s", field)
	}
	if !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("%v: not InvalidArgument", err)
	}
	if !strings.Contains(err.Error(), field) {
		t.Fatalf("%v: does not name %s", err, field)
	}
}

func TestAbsentUserNamespaceIsTheHosts(t *testing.T) {
	cfg := goodPod()
	cfg.Linux.SecurityContext.NamespaceOptions.UsernsOptions = nil
	if err := PodSandbox(cfg); err != nil {
		t.Fatal(err)
	}
}
