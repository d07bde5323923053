// Package ocispec turns a CRI container config and an image config into an
// OCI runtime spec. Generate is pure: everything it needs from the host
// (resolved user, devices, seccomp profile file, pod paths) is in Input.
package ocispec

import (
	"fmt"

	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Input is everything a container's spec is made from.
type Input struct {
	ID      string
	Config  *runtime.ContainerConfig
	Sandbox *runtime.PodSandboxConfig
	Image   imagespec.ImageConfig
	Rootfs  string
	Pod     Pod
	// CgroupsPath is the container's cgroup, as the OCI runtime takes it.
	CgroupsPath string
	User        User
	Devices     []specs.LinuxDevice
	// SeccompProfile is the JSON of a Localhost profile, read by the caller.
	SeccompProfile []byte
	Host           Host
	Annotations    map[string]string
}

// Pod is what the pod provides to each of its containers.
type Pod struct {
	ID         string
	Hostname   string // the file mounted at /etc/hostname
	Hosts      string // the file mounted at /etc/hosts
	ResolvConf string // the file mounted at /etc/resolv.conf
	Shm        string // the pod's /dev/shm (a tmpfs), empty for host IPC
	NetNS      string // pinned namespaces; empty means the host's
	IPCNS      string
	UTSNS      string
	PIDNS      string // the infra process's PID namespace when the pod shares one
	// UserNS is the pod's own user namespace, with its mappings (which the
	// runtime needs too); empty: the host's.
	UserNS      string
	UIDMappings []specs.LinuxIDMapping
	GIDMappings []specs.LinuxIDMapping
}

// setUserNamespace joins the pod's user namespace, if it has one.
func setUserNamespace(s *specs.Spec, pod Pod) {
	if pod.UserNS == "" {
		return
	}
	s.Linux.Namespaces = append(s.Linux.Namespaces, specs.LinuxNamespace{Type: specs.UserNamespace, Path: pod.UserNS})
	s.Linux.UIDMappings, s.Linux.GIDMappings = pod.UIDMappings, pod.GIDMappings
}

// User is the resolved identity of the container's process.
type User struct {
	UID, GID       uint32
	AdditionalGids []uint32
}

// Host holds what the host allows.
type Host struct {
	// MinOOMScoreAdj is the lowest oom_score_adj the runtime may set
	// (root without CAP_SYS_RESOURCE cannot go below its own).
	MinOOMScoreAdj int
	// AllDevices are the host's devices, given to privileged containers.
	AllDevices []specs.LinuxDevice
	// Capabilities are those berthd holds: privileged containers and
	// "ALL" get these, as a runtime cannot grant more (root on some hosts
	// lacks CAP_SYS_RESOURCE). Empty: every capability.
	Capabilities []string
	// Hugetlb decides whether hugepage limits reach the runtime.
	Hugetlb Hugetlb
}

// Generate builds the OCI spec of a container.
func Generate(in *Input) (*specs.Spec, error) {
	if in.Config == nil || in.Sandbox == nil {
		return nil, errdefs.InvalidArgument("container config and sandbox config are required")
	}
	args, err := Command(in.Config, in.Image)
	if err != nil {
		return nil, err
	}
	lc := in.Config.GetLinux()
	sc := lc.GetSecurityContext()
	s := defaultSpec()
	s.Root = &specs.Root{Path: in.Rootfs, Readonly: sc.GetReadonlyRootfs()}
	s.Process.Args = args
	s.Process.Env = Env(in.Image.Env, in.Config.GetEnvs())
	s.Process.Cwd = workingDir(in.Config.GetWorkingDir(), in.Image.WorkingDir)
	s.Process.Terminal = in.Config.GetTty()
	s.Process.User = specs.User{UID: in.User.UID, GID: in.User.GID, AdditionalGids: in.User.AdditionalGids}
	s.Process.NoNewPrivileges = sc.GetNoNewPrivs()
	s.Linux.CgroupsPath = in.CgroupsPath
	s.Annotations = in.Annotations
	setNamespaces(s, in)
	if err := setMounts(s, in); err != nil {
		return nil, err
	}
	if err := setSecurity(s, in); err != nil {
		return nil, err
	}
	if err := setResources(s, lc.GetResources(), in.Host); err != nil {
		return nil, err
	}
	setSysctls(s, in)
	return s, nil
}

// Command applies the CRI rules: the config's command replaces the image's
// entrypoint, and its args replace the image's cmd.
func Command(c *runtime.ContainerConfig, img imagespec.ImageConfig) ([]string, error) {
	var args []string
	switch {
	case len(c.GetCommand()) > 0:
		args = append(append(args, c.GetCommand()...), c.GetArgs()...)
	case len(c.GetArgs()) > 0:
		args = append(append(args, img.Entrypoint...), c.GetArgs()...)
	default:
		args = append(append(args, img.Entrypoint...), img.Cmd...)
	}
	if len(args) == 0 {
		return nil, errdefs.InvalidArgument("container %q has no command: neither its config nor its image gives one", c.GetMetadata().GetName())
	}
	return args, nil
}

// Env merges the image's environment with the config's; the config wins.
func Env(image []string, kvs []*runtime.KeyValue) []string {
	out := append([]string(nil), image...)
	index := map[string]int{}
	for i, kv := range out {
		index[envKey(kv)] = i
	}
	for _, kv := range kvs {
		entry := fmt.Sprintf("%s=%s", kv.GetKey(), kv.GetValue())
		if i, ok := index[kv.GetKey()]; ok {
			out[i] = entry
			continue
		}
		index[kv.GetKey()] = len(out)
		out = append(out, entry)
	}
	return out
}

func envKey(kv string) string {
	for i := 0; i < len(kv); i++ {
		if kv[i] == '=' {
			return kv[:i]
		}
	}
	return kv
}

func workingDir(cfg, img string) string {
	switch {
	case cfg != "":
		return cfg
	case img != "":
		return img
	}
	return "/"
}
