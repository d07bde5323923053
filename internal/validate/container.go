package validate

import (
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// procAllowed are the files under /proc a volume may cover (the ones LXCFS
// serves); everything else under /proc, and /proc itself, the runtime
// protects.
var procAllowed = map[string]bool{
	"/proc/cpuinfo": true, "/proc/diskstats": true, "/proc/meminfo": true, "/proc/stat": true,
	"/proc/swaps": true, "/proc/uptime": true, "/proc/loadavg": true, "/proc/slabinfo": true,
	"/proc/net/dev": true, "/proc/sys/kernel/ns_last_pid": true,
}

// Container checks a CreateContainer config.
func Container(cfg *runtime.ContainerConfig) error {
	switch {
	case cfg == nil || cfg.GetMetadata() == nil:
		return errdefs.InvalidArgument("config.metadata: container config with metadata is required")
	case cfg.GetMetadata().GetName() == "":
		return errdefs.InvalidArgument("config.metadata.name: container name is required")
	case cfg.GetImage().GetImage() == "":
		return errdefs.InvalidArgument("config.image: container %q: image is required", cfg.GetMetadata().GetName())
	}
	if err := text("config.metadata.name", cfg.GetMetadata().GetName()); err != nil {
		return err
	}
	if strings.ContainsRune(cfg.GetMetadata().GetName(), '/') {
		return fieldError("config.metadata.name", "%q must not contain '/'", cfg.GetMetadata().GetName())
	}
	if err := text("config.image.image", cfg.GetImage().GetImage()); err != nil {
		return err
	}
	if err := enum("config.stop_signal", int32(cfg.GetStopSignal()), runtime.Signal_name); err != nil {
		return err
	}
	for i, a := range cfg.GetCommand() {
		if err := noNUL(fmt.Sprintf("config.command[%d]", i), a); err != nil {
			return err
		}
	}
	for i, a := range cfg.GetArgs() {
		if err := noNUL(fmt.Sprintf("config.args[%d]", i), a); err != nil {
			return err
		}
	}
	if d := cfg.GetWorkingDir(); d != "" {
		if err := absPath("config.working_dir", d); err != nil {
			return err
		}
	}
	for i, kv := range cfg.GetEnvs() {
		if err := env(fmt.Sprintf("config.envs[%d]", i), kv); err != nil {
			return err
		}
	}
	for i, m := range cfg.GetMounts() {
		if err := mount(fmt.Sprintf("config.mounts[%d]", i), m); err != nil {
			return err
		}
	}
	for i, d := range cfg.GetDevices() {
		if err := device(fmt.Sprintf("config.devices[%d]", i), d); err != nil {
			return err
		}
	}
	if err := text("config.log_path", cfg.GetLogPath()); err != nil {
		return err
	}
	return containerLinux(cfg.GetLinux())
}

func env(field string, kv *runtime.KeyValue) error {
	k := kv.GetKey()
	if k == "" || strings.ContainsAny(k, "=\x00") {
		return fieldError(field+".key", "%q is not an environment variable name (empty, '=' or NUL)", k)
	}
	return noNUL(field+".value", string(kv.GetValue()))
}

func mount(field string, m *runtime.Mount) error {
	if err := absPath(field+".container_path", m.GetContainerPath()); err != nil {
		return err
	}
	if err := MountTarget(field+".container_path", m.GetContainerPath()); err != nil {
		return err
	}
	if m.GetImage().GetImage() == "" {
		if err := absPath(field+".host_path", m.GetHostPath()); err != nil {
			return err
		}
	}
	if err := enum(field+".propagation", int32(m.GetPropagation()), runtime.MountPropagation_name); err != nil {
		return err
	}
	if m.GetRecursiveReadOnly() && (!m.GetReadonly() || m.GetPropagation() != runtime.MountPropagation_PROPAGATION_PRIVATE) {
		return fieldError(field+".recursive_read_only", "needs readonly and private propagation, as the CRI says")
	}
	for i, o := range m.GetMountOptions() {
		if !bindMountOptions[o] {
			return fieldError(fmt.Sprintf("%s.mount_options[%d]", field, i), "%q is not a bind mount option berth applies (one of %s)", o, strings.Join(slices.Sorted(maps.Keys(bindMountOptions)), ", "))
		}
		if o == "ro" && !m.GetReadonly() {
			return fieldError(fmt.Sprintf("%s.mount_options[%d]", field, i), "ro: set readonly instead")
		}
	}
	return nil
}

// bindMountOptions are the mount_options a volume may ask for: those that
// only take away (no exec, no setuid, no devices, read-only) or tune access
// times. Propagation and recursion have their own fields.
var bindMountOptions = map[string]bool{
	"noexec": true, "nosuid": true, "nodev": true, "ro": true,
	"noatime": true, "nodiratime": true, "relatime": true, "strictatime": true,
}

// MountTarget refuses destinations that would shadow the root or the /proc
// tree the runtime sets up and protects (after cleaning: "/a/../proc" is /proc).
func MountTarget(field, p string) error {
	c := path.Clean(p)
	switch {
	case c == "/":
		return fieldError(field, "%q would cover the container's root", p)
	case c == "/proc" || (strings.HasPrefix(c, "/proc/") && !procAllowed[c]):
		return fieldError(field, "%q would cover the /proc the runtime protects", p)
	}
	return nil
}

func device(field string, d *runtime.Device) error {
	if err := absPath(field+".container_path", d.GetContainerPath()); err != nil {
		return err
	}
	if err := absPath(field+".host_path", d.GetHostPath()); err != nil {
		return err
	}
	if p := d.GetPermissions(); strings.Trim(p, "rwm") != "" {
		return fieldError(field+".permissions", "%q may hold only r, w and m", p)
	}
	return nil
}

func containerLinux(l *runtime.LinuxContainerConfig) error {
	if err := Resources("config.linux.resources", l.GetResources()); err != nil {
		return err
	}
	sc := l.GetSecurityContext()
	const f = "config.linux.security_context"
	if sc.GetNamespaceOptions() != nil {
		if err := namespaces(f+".namespace_options", sc.GetNamespaceOptions(), true); err != nil {
			return err
		}
	}
	if err := ids(f, sc); err != nil {
		return err
	}
	if sc.GetRunAsGroup() != nil && sc.GetRunAsUser() == nil && sc.GetRunAsUsername() == "" {
		return fieldError(f+".run_as_group", "needs run_as_user or run_as_username")
	}
	if err := text(f+".run_as_username", sc.GetRunAsUsername()); err != nil {
		return err
	}
	for i, p := range sc.GetMaskedPaths() {
		if err := absPath(fmt.Sprintf("%s.masked_paths[%d]", f, i), p); err != nil {
			return err
		}
	}
	for i, p := range sc.GetReadonlyPaths() {
		if err := absPath(fmt.Sprintf("%s.readonly_paths[%d]", f, i), p); err != nil {
			return err
		}
	}
	// The deprecated string fields are not read: a profile asked for only
	// there would silently not apply.
	if p := sc.GetSeccompProfilePath(); p != "" && sc.GetSeccomp() == nil {
		return fieldError(f+".seccomp_profile_path", "%q: the deprecated field is not supported, set seccomp", p)
	}
	if p := sc.GetApparmorProfile(); p != "" && sc.GetApparmor() == nil {
		return fieldError(f+".apparmor_profile", "%q: the deprecated field is not supported, set apparmor", p)
	}
	return profiles(f, sc)
}
