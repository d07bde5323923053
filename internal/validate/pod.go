package validate

import (
	"fmt"
	"net/netip"
	"path"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// maxHostname is the kernel's HOST_NAME_MAX.
const maxHostname = 64

// PodSandbox checks a RunPodSandbox config.
func PodSandbox(cfg *runtime.PodSandboxConfig) error {
	if cfg == nil {
		return errdefs.InvalidArgument("config: a pod sandbox config is required")
	}
	if err := podMetadata(cfg.GetMetadata()); err != nil {
		return err
	}
	if h := cfg.GetHostname(); h != "" {
		if err := text("config.hostname", h); err != nil {
			return err
		}
		if len(h) > maxHostname || strings.ContainsRune(h, '/') {
			return fieldError("config.hostname", "%q is not a valid host name (at most %d bytes, no '/')", h, maxHostname)
		}
	}
	if d := cfg.GetLogDirectory(); d != "" {
		if err := absPath("config.log_directory", d); err != nil {
			return err
		}
	}
	if err := dnsConfig(cfg.GetDnsConfig()); err != nil {
		return err
	}
	for i, pm := range cfg.GetPortMappings() {
		if err := portMapping(fmt.Sprintf("config.port_mappings[%d]", i), pm); err != nil {
			return err
		}
	}
	return podLinux(cfg.GetLinux())
}

// podMetadata checks name, namespace and uid. They reach CNI as CNI_ARGS
// (K=V pairs joined by ';', with no escaping), paths and logs, so ';', '='
// and control characters are refused: no pod field can set another CNI arg.
func podMetadata(md *runtime.PodSandboxMetadata) error {
	if md == nil {
		return errdefs.InvalidArgument("config.metadata: pod sandbox metadata is required")
	}
	for _, f := range []struct{ name, v string }{
		{"config.metadata.name", md.GetName()},
		{"config.metadata.namespace", md.GetNamespace()},
		{"config.metadata.uid", md.GetUid()},
	} {
		if f.v == "" {
			return fieldError(f.name, "is required (pod sandbox metadata needs a name, a namespace and a uid)")
		}
		if err := cniArg(f.name, f.v); err != nil {
			return err
		}
	}
	return nil
}

// cniArg checks a value that is passed to CNI plugins in CNI_ARGS.
func cniArg(field, v string) error {
	if err := text(field, v); err != nil {
		return err
	}
	if strings.ContainsAny(v, ";=") {
		return fieldError(field, "%q contains ';' or '=', which CNI_ARGS cannot carry", v)
	}
	return nil
}

// dnsConfig checks what is written into the pod's resolv.conf, one line
// per entry: a newline would add lines of the caller's choosing.
func dnsConfig(d *runtime.DNSConfig) error {
	for i, s := range d.GetServers() {
		if _, err := netip.ParseAddr(s); err != nil {
			return fieldError(fmt.Sprintf("config.dns_config.servers[%d]", i), "%q is not an IP address", s)
		}
	}
	for i, s := range d.GetSearches() {
		if err := word(fmt.Sprintf("config.dns_config.searches[%d]", i), s); err != nil {
			return err
		}
	}
	for i, s := range d.GetOptions() {
		if err := word(fmt.Sprintf("config.dns_config.options[%d]", i), s); err != nil {
			return err
		}
	}
	return nil
}

// word is a non-empty string without spaces or control characters.
func word(field, v string) error {
	if err := text(field, v); err != nil {
		return err
	}
	if v == "" || strings.ContainsAny(v, " \t") {
		return fieldError(field, "%q must be one non-empty word", v)
	}
	return nil
}

func portMapping(field string, pm *runtime.PortMapping) error {
	if err := enum(field+".protocol", int32(pm.GetProtocol()), runtime.Protocol_name); err != nil {
		return err
	}
	if p := pm.GetContainerPort(); p < 1 || p > 65535 {
		return fieldError(field+".container_port", "%d is outside 1..65535", p)
	}
	if p := pm.GetHostPort(); p < 0 || p > 65535 {
		return fieldError(field+".host_port", "%d is outside 0..65535", p)
	}
	if ip := pm.GetHostIp(); ip != "" && !validAddr(ip) {
		return fieldError(field+".host_ip", "%q is not an IP address", ip)
	}
	return nil
}

func podLinux(l *runtime.LinuxPodSandboxConfig) error {
	if p := l.GetCgroupParent(); p != "" {
		if err := cgroupPath("config.linux.cgroup_parent", p); err != nil {
			return err
		}
	}
	sc := l.GetSecurityContext()
	if err := podSecurity(sc); err != nil {
		return err
	}
	hostNet := sc.GetNamespaceOptions().GetNetwork() == runtime.NamespaceMode_NODE
	hostIPC := sc.GetNamespaceOptions().GetIpc() == runtime.NamespaceMode_NODE
	for k, v := range l.GetSysctls() {
		if err := Sysctl(k, v, hostNet, hostIPC); err != nil {
			return err
		}
	}
	if err := Resources("config.linux.overhead", l.GetOverhead()); err != nil {
		return err
	}
	return Resources("config.linux.resources", l.GetResources())
}

// cgroupPath is an absolute cgroupfs path (or a systemd slice name) that
// cannot climb out of the hierarchy.
func cgroupPath(field, p string) error {
	if err := text(field, p); err != nil {
		return err
	}
	if strings.HasSuffix(p, ".slice") && !strings.Contains(p, "/") {
		return nil
	}
	if !path.IsAbs(p) {
		return fieldError(field, "%q must be an absolute cgroupfs path", p)
	}
	for _, c := range strings.Split(p, "/") {
		if c == ".." {
			return fieldError(field, "%q must not contain '..'", p)
		}
	}
	return nil
}

func podSecurity(sc *runtime.LinuxSandboxSecurityContext) error {
	const f = "config.linux.security_context"
	if err := namespaces(f+".namespace_options", sc.GetNamespaceOptions(), false); err != nil {
		return err
	}
	if err := ids(f, sc); err != nil {
		return err
	}
	return profiles(f, sc)
}

// namespaces checks the namespace modes. inContainer allows TARGET for
// the PID namespace, with a target_id.
func namespaces(field string, o *runtime.NamespaceOption, inContainer bool) error {
	for _, m := range []struct {
		name    string
		v       runtime.NamespaceMode
		allowed []runtime.NamespaceMode
	}{
		{"network", o.GetNetwork(), []runtime.NamespaceMode{runtime.NamespaceMode_POD, runtime.NamespaceMode_NODE}},
		{"ipc", o.GetIpc(), []runtime.NamespaceMode{runtime.NamespaceMode_POD, runtime.NamespaceMode_NODE}},
		{"pid", o.GetPid(), []runtime.NamespaceMode{runtime.NamespaceMode_POD, runtime.NamespaceMode_CONTAINER, runtime.NamespaceMode_NODE, runtime.NamespaceMode_TARGET}},
	} {
		ok := false
		for _, a := range m.allowed {
			ok = ok || m.v == a
		}
		if !ok {
			return fieldError(field+"."+m.name, "mode %s is not allowed here", modeName(m.v))
		}
	}
	if o.GetPid() == runtime.NamespaceMode_TARGET {
		if !inContainer || o.GetTargetId() == "" {
			return fieldError(field+".pid", "mode TARGET needs a container's target_id")
		}
	}
	return userNamespace(field, o)
}

// userNamespace checks a user namespace request: NODE with no mappings, or
// POD with one UID and one GID mapping that give the pod a root and never
// map host root, and then none of the host's network, PID or IPC
// namespaces (as Kubernetes requires of hostUsers: false).
func userNamespace(field string, o *runtime.NamespaceOption) error {
	u := o.GetUsernsOptions()
	if u == nil {
		return nil // the host's (NamespaceMode's zero value is POD: absent is not POD)
	}
	f := field + ".userns_options"
	switch u.GetMode() {
	case runtime.NamespaceMode_NODE:
		if len(u.GetUids()) > 0 || len(u.GetGids()) > 0 {
			return fieldError(f, "mode NODE takes no uids or gids mappings")
		}
		return nil
	case runtime.NamespaceMode_POD:
	default:
		return fieldError(f+".mode", "mode %s is not allowed here: NODE or POD", modeName(u.GetMode()))
	}
	for _, m := range []struct {
		name string
		maps []*runtime.IDMapping
	}{{"uids", u.GetUids()}, {"gids", u.GetGids()}} {
		if len(m.maps) != 1 {
			return fieldError(f+"."+m.name, "mode POD needs exactly one mapping, got %d", len(m.maps))
		}
		x := m.maps[0]
		switch {
		case x.GetContainerId() != 0:
			return fieldError(f+"."+m.name+"[0].container_id", "must be 0: the pod's root must be mapped, got %d", x.GetContainerId())
		case x.GetLength() == 0:
			return fieldError(f+"."+m.name+"[0].length", "must not be 0")
		case x.GetHostId() == 0:
			return fieldError(f+"."+m.name+"[0].host_id", "must not be 0: host root is never mapped into a pod")
		case uint64(x.GetHostId())+uint64(x.GetLength()) > 1<<32-1:
			return fieldError(f+"."+m.name+"[0]", "host_id %d + length %d passes the last ID", x.GetHostId(), x.GetLength())
		}
	}
	for _, h := range []struct {
		name string
		v    runtime.NamespaceMode
	}{{"network", o.GetNetwork()}, {"pid", o.GetPid()}, {"ipc", o.GetIpc()}} {
		if h.v == runtime.NamespaceMode_NODE {
			return fieldError(f+".mode", "POD cannot be combined with the host's %s namespace (%s: NODE)", h.name, field+"."+h.name)
		}
	}
	return nil
}

func modeName(m runtime.NamespaceMode) string {
	if n, ok := runtime.NamespaceMode_name[int32(m)]; ok {
		return n
	}
	return fmt.Sprintf("%d (unknown)", int32(m))
}

// profile checks a seccomp or AppArmor profile request.
func profile(field string, p *runtime.SecurityProfile) error {
	if p == nil {
		return nil
	}
	if err := enum(field+".profile_type", int32(p.GetProfileType()), runtime.SecurityProfile_ProfileType_name); err != nil {
		return err
	}
	ref := p.GetLocalhostRef()
	if p.GetProfileType() == runtime.SecurityProfile_Localhost {
		if ref == "" {
			return fieldError(field+".localhost_ref", "is required for a Localhost profile")
		}
		return text(field+".localhost_ref", ref)
	}
	if ref != "" {
		return fieldError(field+".localhost_ref", "%q is set but profile_type is %s", ref, p.GetProfileType())
	}
	return nil
}

func validAddr(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}
