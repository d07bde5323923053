package container

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/ocispec"
)

// MinOOMScoreAdj is the lowest oom_score_adj this process can hand to its
// children: -1000 with CAP_SYS_RESOURCE, else its own value.
func MinOOMScoreAdj() int {
	if hasCapSysResource() {
		return -1000
	}
	data, err := os.ReadFile("/proc/self/oom_score_adj")
	if err != nil {
		return 0
	}
	v, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		return 0
	}
	return v
}

func hasCapSysResource() bool {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			caps, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return err == nil && caps&(1<<unix.CAP_SYS_RESOURCE) != 0
		}
	}
	return false
}

// resolveDevices turns CRI device requests into spec devices.
func resolveDevices(devs []*runtime.Device) ([]specs.LinuxDevice, error) {
	var out []specs.LinuxDevice
	for _, d := range devs {
		dev, err := deviceAt(d.GetHostPath(), d.GetContainerPath())
		if err != nil {
			return nil, err
		}
		out = append(out, dev)
	}
	return out, nil
}

func deviceAt(hostPath, containerPath string) (specs.LinuxDevice, error) {
	var st unix.Stat_t
	if err := unix.Stat(hostPath, &st); err != nil {
		return specs.LinuxDevice{}, errdefs.InvalidArgument("device %q: %v", hostPath, err)
	}
	var typ string
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFCHR:
		typ = "c"
	case unix.S_IFBLK:
		typ = "b"
	default:
		return specs.LinuxDevice{}, errdefs.InvalidArgument("%q is not a device", hostPath)
	}
	mode := os.FileMode(st.Mode & 0o777)
	uid, gid := st.Uid, st.Gid
	if containerPath == "" {
		containerPath = hostPath
	}
	return specs.LinuxDevice{Path: containerPath, Type: typ, Major: int64(unix.Major(st.Rdev)), Minor: int64(unix.Minor(st.Rdev)),
		FileMode: &mode, UID: &uid, GID: &gid}, nil
}

// hostDevices lists the host's devices for privileged containers.
func hostDevices() []specs.LinuxDevice {
	var out []specs.LinuxDevice
	filepath.WalkDir("/dev", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if d.IsDir() && (p == "/dev/pts" || p == "/dev/shm" || p == "/dev/mqueue") {
			return filepath.SkipDir
		}
		if d.Type()&(fs.ModeDevice|fs.ModeCharDevice) == 0 || p == "/dev/console" {
			return nil
		}
		if dev, err := deviceAt(p, p); err == nil {
			out = append(out, dev)
		}
		return nil
	})
	return out
}

// checkMountSources requires every bind mount's source to exist.
func checkMountSources(mounts []*runtime.Mount) error {
	for _, m := range mounts {
		if _, err := os.Stat(m.GetHostPath()); err != nil {
			return errdefs.InvalidArgument("mount source %q for %q: %v", m.GetHostPath(), m.GetContainerPath(), err)
		}
		if err := checkPropagationSource(m); err != nil {
			return err
		}
	}
	return nil
}

// checkPropagationSource refuses a propagating mount whose source sits on
// a host mount that cannot propagate: Bidirectional needs a shared mount,
// HostToContainer a shared or slave one. Without this the container would
// start and silently see no propagation.
func checkPropagationSource(m *runtime.Mount) error {
	var accept []string
	switch m.GetPropagation() {
	case runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		accept = []string{"shared:"}
	case runtime.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		accept = []string{"shared:", "master:"}
	default:
		return nil
	}
	path, err := filepath.EvalSymlinks(m.GetHostPath())
	if err != nil {
		return errdefs.InvalidArgument("mount source %q: %v", m.GetHostPath(), err)
	}
	mounts, err := mountinfo.GetMounts(mountinfo.ParentsFilter(path))
	if err != nil {
		return fmt.Errorf("read mountinfo: %w", err)
	}
	var holder *mountinfo.Info
	for _, mi := range mounts { // the deepest mount point above path holds it
		if holder == nil || len(mi.Mountpoint) >= len(holder.Mountpoint) {
			holder = mi
		}
	}
	if holder == nil {
		return nil
	}
	for _, field := range strings.Fields(holder.Optional) {
		for _, a := range accept {
			if strings.HasPrefix(field, a) {
				return nil
			}
		}
	}
	return errdefs.InvalidArgument("mount %q wants %v propagation, but its source %q is on mount %q, which is not %s",
		m.GetContainerPath(), m.GetPropagation(), m.GetHostPath(), holder.Mountpoint, map[int]string{1: "shared", 2: "shared or slave"}[len(accept)])
}

// seccompProfile reads a Localhost profile file.
func seccompProfile(p *runtime.SecurityProfile) ([]byte, error) {
	if p.GetProfileType() != runtime.SecurityProfile_Localhost || p == nil {
		return nil, nil
	}
	ref := strings.TrimPrefix(p.GetLocalhostRef(), "localhost/")
	if !filepath.IsAbs(ref) {
		return nil, errdefs.InvalidArgument("config.linux.security_context.seccomp.localhost_ref: %q must be an absolute path", p.GetLocalhostRef())
	}
	data, err := os.ReadFile(ref)
	if err != nil {
		return nil, errdefs.InvalidArgument("config.linux.security_context.seccomp.localhost_ref: %v", err)
	}
	return data, nil
}

// heldCapabilities lists the capabilities berthd holds (bounding and
// effective), read once: a container cannot get more.
var heldCapabilities = sync.OnceValue(func() []string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return nil
	}
	mask := ^uint64(0)
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || (name != "CapBnd" && name != "CapEff") {
			continue
		}
		bits, err := strconv.ParseUint(strings.TrimSpace(value), 16, 64)
		if err != nil {
			return nil
		}
		mask &= bits
	}
	var held []string
	for bit, name := range ocispec.AllCapabilities {
		if mask&(1<<bit) != 0 {
			held = append(held, name)
		}
	}
	return held
})
