package ocispec

import (
	"strings"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// AllCapabilities is every capability the kernel knows, in bit order, for
// privileged containers and "ALL".
var AllCapabilities = []string{
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT",
	"CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME",
	"CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL",
	"CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
}

func setSecurity(s *specs.Spec, in *Input) error {
	sc := in.Config.GetLinux().GetSecurityContext()
	if sc.GetPrivileged() {
		if !in.Sandbox.GetLinux().GetSecurityContext().GetPrivileged() {
			return errdefs.InvalidArgument("privileged container %q in a pod that is not privileged", in.Config.GetMetadata().GetName())
		}
		s.Process.Capabilities = capSet(in.Host.all())
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
		for i := range s.Mounts {
			if s.Mounts[i].Destination == "/sys" || s.Mounts[i].Destination == "/sys/fs/cgroup" {
				s.Mounts[i].Options = replaceOpt(s.Mounts[i].Options, "ro", "rw")
			}
		}
		s.Linux.Devices = append(s.Linux.Devices, in.Host.AllDevices...)
		s.Linux.Resources.Devices = []specs.LinuxDeviceCgroup{{Allow: true, Access: "rwm"}}
		return nil
	}
	caps, err := Capabilities(sc.GetCapabilities(), in.Host.all())
	if err != nil {
		return err
	}
	s.Process.Capabilities = capSet(caps)
	if in.Pod.UserNS != "" && len(sc.GetMaskedPaths()) == 0 && len(sc.GetReadonlyPaths()) == 0 {
		// procMount: Unmasked, which Kubernetes allows only with hostUsers:
		// false, arrives as empty lists (proto3 cannot tell them from
		// absent; for procMount: Default the kubelet sends its lists).
		s.Linux.MaskedPaths, s.Linux.ReadonlyPaths = nil, nil
	}
	if sc != nil && sc.MaskedPaths != nil {
		s.Linux.MaskedPaths = sc.GetMaskedPaths()
	}
	if sc != nil && sc.ReadonlyPaths != nil {
		s.Linux.ReadonlyPaths = sc.GetReadonlyPaths()
	}
	setDevices(s, in.Devices)
	return setSeccomp(s, sc.GetSeccomp(), in.SeccompProfile)
}

// all is what "ALL" grants on this host.
func (h Host) all() []string {
	if len(h.Capabilities) == 0 {
		return AllCapabilities
	}
	return h.Capabilities
}

// Capabilities applies a CRI capability request to the default set; all is
// what "ALL" adds.
func Capabilities(c *runtime.Capability, all []string) ([]string, error) {
	set := map[string]bool{}
	for _, name := range defaultCapabilities {
		set[name] = true
	}
	norm := func(name string) (string, error) {
		n := strings.ToUpper(name)
		if n != "ALL" && !strings.HasPrefix(n, "CAP_") {
			n = "CAP_" + n
		}
		if n != "ALL" && !contains(AllCapabilities, n) {
			return "", errdefs.InvalidArgument("unknown capability %q", name)
		}
		return n, nil
	}
	for _, name := range c.GetDropCapabilities() {
		n, err := norm(name)
		if err != nil {
			return nil, err
		}
		if n == "ALL" {
			set = map[string]bool{}
		}
		delete(set, n)
	}
	for _, name := range c.GetAddCapabilities() {
		n, err := norm(name)
		if err != nil {
			return nil, err
		}
		if n == "ALL" {
			for _, a := range all {
				set[a] = true
			}
			continue
		}
		set[n] = true
	}
	var out []string
	for _, name := range AllCapabilities { // keep a stable order
		if set[name] {
			out = append(out, name)
		}
	}
	return out, nil
}

func capSet(caps []string) *specs.LinuxCapabilities {
	return &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps}
}

// setSeccomp applies the profile; no profile at all means unconfined, as
// kubelet sends an explicit type whenever one is wanted.
func setSeccomp(s *specs.Spec, p *runtime.SecurityProfile, localhost []byte) error {
	if p == nil {
		return nil
	}
	switch p.GetProfileType() {
	case runtime.SecurityProfile_Unconfined:
		return nil
	case runtime.SecurityProfile_RuntimeDefault:
		prof, err := seccomp.GetDefaultProfile(s)
		if err != nil {
			return err
		}
		s.Linux.Seccomp = prof
	case runtime.SecurityProfile_Localhost:
		if len(localhost) == 0 {
			return errdefs.InvalidArgument("seccomp profile %q is empty", p.GetLocalhostRef())
		}
		prof, err := seccomp.LoadProfile(string(localhost), s)
		if err != nil {
			return errdefs.InvalidArgument("seccomp profile %q: %v", p.GetLocalhostRef(), err)
		}
		s.Linux.Seccomp = prof
	default:
		return errdefs.InvalidArgument("seccomp.profile_type: unknown value %d", int32(p.GetProfileType()))
	}
	return nil
}

func setDevices(s *specs.Spec, devices []specs.LinuxDevice) {
	for _, d := range devices {
		s.Linux.Devices = append(s.Linux.Devices, d)
		major, minor := d.Major, d.Minor
		s.Linux.Resources.Devices = append(s.Linux.Resources.Devices, specs.LinuxDeviceCgroup{
			Allow: true, Type: d.Type, Major: &major, Minor: &minor, Access: "rwm",
		})
	}
}

func replaceOpt(opts []string, from, to string) []string {
	out := make([]string, len(opts))
	for i, o := range opts {
		if o == from {
			o = to
		}
		out[i] = o
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
