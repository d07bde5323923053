package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// footprint is what a refused request must not change.
type footprint struct {
	pods, containers  int
	podDirs, ctrDirs  []string
	mounts, ips, veth []string
}

func (b *berthd) footprint(t *testing.T) footprint {
	t.Helper()
	pods, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ctrs, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	names := func(dir string) []string {
		entries, _ := os.ReadDir(dir)
		var out []string
		for _, e := range entries {
			out = append(out, e.Name())
		}
		return out
	}
	f := footprint{pods: len(pods.Items), containers: len(ctrs.Containers),
		podDirs: names(filepath.Join(b.State, "pods")),
		ctrDirs: append(names(filepath.Join(b.State, "containers")), names(filepath.Join(b.Root, "containers"))...),
		mounts:  mountsUnder(b.dir), ips: allocatedIPs(filepath.Join(b.State, "cni", "ipam")), veth: bridgePorts("berth0")}
	for _, l := range [][]string{f.podDirs, f.ctrDirs, f.mounts, f.ips, f.veth} {
		sort.Strings(l)
	}
	return f
}

func (f footprint) String() string {
	return fmt.Sprintf("pods=%d containers=%d pod dirs=%v container dirs=%v mounts=%v IPs=%v veths=%v",
		f.pods, f.containers, f.podDirs, f.ctrDirs, f.mounts, f.ips, f.veth)
}

// TestBadRequestsAreRefusedByField (root) sends each crafted request the
// attack review found, and their neighbours, and checks the code, that the
// message names the field and that nothing was left behind.
func TestBadRequestsAreRefusedByField(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "badreq")
	podID := runPod(t, b, pod)
	running := runContainer(t, b, podID, pod, ctrConfig("running", img, "sleep", "1000"))
	before := b.footprint(t)

	check := func(t *testing.T, err error, code, field string) {
		t.Helper()
		if err == nil {
			t.Fatalf("accepted, want %s naming %s", code, field)
		}
		if statusCode(err) != code || !strings.Contains(err.Error(), field) {
			t.Fatalf("want %s naming %q, got %s: %v", code, field, statusCode(err), err)
		}
		if after := b.footprint(t); after.String() != before.String() {
			t.Fatalf("left behind:\nbefore %s\nafter  %s", before, after)
		}
	}
	podCases := []struct {
		name   string
		change func(*runtime.PodSandboxConfig)
		field  string
	}{
		{"CNI arg in name", func(c *runtime.PodSandboxConfig) { c.Metadata.Name = "x;IP=10.93.9.9" }, "config.metadata.name"},
		{"CNI arg in namespace", func(c *runtime.PodSandboxConfig) { c.Metadata.Namespace = "a;IgnoreUnknown=1;IP=10.93.9.9" }, "config.metadata.namespace"},
		{"CNI arg in uid", func(c *runtime.PodSandboxConfig) { c.Metadata.Uid = "u;IP=10.93.9.9" }, "config.metadata.uid"},
		{"NUL in name", func(c *runtime.PodSandboxConfig) { c.Metadata.Name = "a\x00b" }, "config.metadata.name"},
		{"newline in namespace", func(c *runtime.PodSandboxConfig) { c.Metadata.Namespace = "a\nb" }, "config.metadata.namespace"},
		{"kernel.panic", func(c *runtime.PodSandboxConfig) { c.Linux.Sysctls = map[string]string{"kernel.panic": "1"} }, "kernel.panic"},
		{"kernel.printk_ratelimit", func(c *runtime.PodSandboxConfig) {
			c.Linux.Sysctls = map[string]string{"kernel.printk_ratelimit": "1"}
		}, "kernel.printk_ratelimit"},
		{"net sysctl with host network", func(c *runtime.PodSandboxConfig) {
			c.Linux.Sysctls = map[string]string{"net.ipv4.ip_forward": "1"}
			c.Linux.SecurityContext.NamespaceOptions.Network = runtime.NamespaceMode_NODE
		}, "net.ipv4.ip_forward"},
		{"pod run_as_user 2^40", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1 << 40}
		}, "config.linux.security_context.run_as_user"},
		{"pod supplemental group 2^32", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.SupplementalGroups = []int64{1 << 32}
		}, "config.linux.security_context.supplemental_groups[0]"},
		{"pod seccomp type 9", func(c *runtime.PodSandboxConfig) {
			c.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: 9}
		}, "config.linux.security_context.seccomp.profile_type"},
		{"container port 0", func(c *runtime.PodSandboxConfig) {
			c.PortMappings = []*runtime.PortMapping{{ContainerPort: 0, HostPort: 18080, HostIp: "127.0.0.1"}}
		}, "config.port_mappings[0].container_port"},
		{"dns search injecting a line", func(c *runtime.PodSandboxConfig) {
			c.DnsConfig = &runtime.DNSConfig{Searches: []string{"x\nnameserver 10.66.6.6"}}
		}, "config.dns_config.searches[0]"},
	}
	for _, tc := range podCases {
		t.Run("pod/"+tc.name, func(t *testing.T) {
			cfg := podConfig(t, "crafted")
			tc.change(cfg)
			_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: cfg})
			check(t, err, "InvalidArgument", tc.field)
		})
	}

	profileDir := t.TempDir()
	ctrCases := []struct {
		name   string
		change func(*runtime.ContainerConfig)
		code   string
		field  string
	}{
		{"run_as_user 2^40", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1 << 40}
		},
			"InvalidArgument", "config.linux.security_context.run_as_user"},
		{"run_as_user 2^32+1000", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1<<32 + 1000}
		}, "InvalidArgument", "run_as_user"},
		{"run_as_user 2^31", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1 << 31}
		},
			"InvalidArgument", "run_as_user"},
		{"run_as_user -1", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: -1} },
			"InvalidArgument", "run_as_user"},
		{"run_as_group 2^32", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1000}
			c.Linux.SecurityContext.RunAsGroup = &runtime.Int64Value{Value: 1 << 32}
		}, "InvalidArgument", "run_as_group"},
		{"supplemental group 2^32+5", func(c *runtime.ContainerConfig) { c.Linux.SecurityContext.SupplementalGroups = []int64{1<<32 + 5} },
			"InvalidArgument", "supplemental_groups[0]"},
		{"seccomp type 9", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: 9}
		},
			"InvalidArgument", "seccomp.profile_type"},
		{"apparmor type 9", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.Apparmor = &runtime.SecurityProfile{ProfileType: 9}
		},
			"InvalidArgument", "apparmor.profile_type"},
		{"missing localhost seccomp profile", func(c *runtime.ContainerConfig) {
			c.Linux.SecurityContext.Seccomp = &runtime.SecurityProfile{ProfileType: runtime.SecurityProfile_Localhost,
				LocalhostRef: filepath.Join(profileDir, "nothere.json")}
		}, "InvalidArgument", "seccomp.localhost_ref"},
		{"mount onto /", func(c *runtime.ContainerConfig) {
			c.Mounts = []*runtime.Mount{{ContainerPath: "/", HostPath: profileDir}}
		},
			"InvalidArgument", "config.mounts[0].container_path"},
		{"mount onto /proc", func(c *runtime.ContainerConfig) {
			c.Mounts = []*runtime.Mount{{ContainerPath: "/proc", HostPath: profileDir}}
		},
			"InvalidArgument", "config.mounts[0].container_path"},
		{"mount onto /proc/sys/kernel", func(c *runtime.ContainerConfig) {
			c.Mounts = []*runtime.Mount{{ContainerPath: "/proc/sys/kernel", HostPath: profileDir}}
		}, "InvalidArgument", "config.mounts[0].container_path"},
		{"relative working_dir", func(c *runtime.ContainerConfig) { c.WorkingDir = "tmp" }, "InvalidArgument", "config.working_dir"},
		{"empty env key", func(c *runtime.ContainerConfig) { c.Envs = []*runtime.KeyValue{{Key: "", Value: []byte("x")}} },
			"InvalidArgument", "config.envs[0].key"},
		{"env key with =", func(c *runtime.ContainerConfig) { c.Envs = []*runtime.KeyValue{{Key: "A=B", Value: []byte("x")}} },
			"InvalidArgument", "config.envs[0].key"},
		{"cpuset garbage", func(c *runtime.ContainerConfig) {
			c.Linux.Resources = &runtime.LinuxContainerResources{CpusetCpus: "garbage"}
		}, "InvalidArgument", "config.linux.resources.cpuset_cpus"},
		{"memory limit 1 byte", func(c *runtime.ContainerConfig) {
			c.Linux.Resources = &runtime.LinuxContainerResources{MemoryLimitInBytes: 1}
		}, "InvalidArgument", "config.linux.resources.memory_limit_in_bytes"},
		{"bad hugepage size", func(c *runtime.ContainerConfig) {
			c.Linux.Resources = &runtime.LinuxContainerResources{HugepageLimits: []*runtime.HugepageLimit{{PageSize: "3MB"}}}
		}, "InvalidArgument", "hugepage_limits[0].page_size"},
		{"command not in the image", func(c *runtime.ContainerConfig) { c.Command = []string{"nosuchcommand"} },
			"InvalidArgument", "executable file not found in $PATH"},
		{"absolute command not in the image", func(c *runtime.ContainerConfig) { c.Command = []string{"/opt/nothere"} },
			"InvalidArgument", "no such file or directory"},
		{"command not executable", func(c *runtime.ContainerConfig) { c.Command = []string{"/etc/passwd"} },
			"FailedPrecondition", "permission denied"},
	}
	for _, tc := range ctrCases {
		t.Run("container/"+tc.name, func(t *testing.T) {
			cfg := ctrConfig("crafted", img, "sleep", "1")
			tc.change(cfg)
			_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
			check(t, err, tc.code, tc.field)
		})
	}

	t.Run("update/unified ..", func(t *testing.T) {
		_, err := b.RT.UpdateContainerResources(ctxT(t), &runtime.UpdateContainerResourcesRequest{ContainerId: running,
			Linux: &runtime.LinuxContainerResources{Unified: map[string]string{"../../cgroup.procs": "1"}}})
		check(t, err, "InvalidArgument", "linux.unified")
	})
	t.Run("update/memory below usage", func(t *testing.T) {
		execOut(t, b, running, "dd", "if=/dev/zero", "of=/dev/shm/fill", "bs=1M", "count=24")
		_, err := b.RT.UpdateContainerResources(ctxT(t), &runtime.UpdateContainerResourcesRequest{ContainerId: running,
			Linux: &runtime.LinuxContainerResources{MemoryLimitInBytes: 8 << 20}})
		check(t, err, "FailedPrecondition", "linux.memory_limit_in_bytes")
	})

	// The neighbours that are valid still work: the largest uid and gid.
	edge := ctrConfig("edge", img, "id")
	edge.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1<<31 - 1}
	edge.Linux.SecurityContext.RunAsGroup = &runtime.Int64Value{Value: 1<<31 - 1}
	eid := runContainer(t, b, podID, pod, edge)
	waitExited(t, b, eid, 10*time.Second)
	if lines := logLines(t, logPathOf(pod, edge)); len(lines) != 1 || !strings.Contains(lines[0][2], "uid=2147483647 gid=2147483647") {
		t.Fatalf("uid/gid 2^31-1: %v", lines)
	}
	// And a pod with every kind of namespaced sysctl.
	ok := podConfig(t, "sysctls")
	ok.Linux.Sysctls = map[string]string{"net.ipv4.ping_group_range": "0 0", "kernel.shm_rmid_forced": "1", "fs.mqueue.msg_max": "12"}
	okID := runPod(t, b, ok)
	sid := runContainer(t, b, okID, ok, ctrConfig("s", img, "sh", "-c", "cat /proc/sys/kernel/shm_rmid_forced /proc/sys/fs/mqueue/msg_max"))
	waitExited(t, b, sid, 10*time.Second)
	if lines := logLines(t, logPathOf(ok, ctrConfig("s", img))); len(lines) != 2 || lines[0][2] != "1" || lines[1][2] != "12" {
		t.Fatalf("namespaced sysctls: %v", lines)
	}
}
