package container

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/idmap"
	"github.com/berth-runtime/berth/internal/pod"
)

// A container of a pod with its own user namespace (hostUsers: false)
// runs as the pod's root, a host UID with no rights on the host's files.
// What it must reach is made its own: its bundle dirs (runc's init walks
// to the rootfs from inside the namespace) and the top of its writable
// layer (its "/") are chowned to the pod's root, the image layers are
// mounted under the overlay through idmapped copies, and its bind mounts
// come from idmapped copies kept under <bundle>/idmap until it is removed.
// Files stay as they are on disk: through the copies, host root's files
// are the pod root's, and what the pod's root writes is stored as the
// host UID it is.

// podUserns is the user namespace of a container's pod, open.
type podUserns struct {
	file *os.File
	ids  *idmap.Mappings
}

// openPodUserns opens it; nil, nil for a pod in the host's.
func openPodUserns(path string, ids *idmap.Mappings) (*podUserns, error) {
	if path == "" || ids == nil {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("the pod's user namespace: %w", err)
	}
	return &podUserns{file: f, ids: ids}, nil
}

func (u *podUserns) Close() {
	if u != nil {
		u.file.Close()
	}
}

// mountIDMappedOverlay mounts the overlay with each lower layer seen
// through an idmapped copy, staged under stage only while the overlay is
// mounted (the overlay keeps its own references to its layers).
func mountIDMappedOverlay(lower []string, dataDir, target, stage string, u *podUserns) error {
	if err := os.MkdirAll(stage, 0o700); err != nil {
		return err
	}
	staged := make([]string, 0, len(lower))
	defer func() {
		// Never RemoveAll: a copy left mounted would be walked into.
		for _, s := range staged {
			unix.Unmount(s, unix.MNT_DETACH)
		}
		entries, _ := os.ReadDir(stage)
		for _, e := range entries {
			os.Remove(filepath.Join(stage, e.Name()))
		}
		os.Remove(stage)
	}()
	for i, l := range lower {
		s := filepath.Join(stage, strconv.Itoa(i))
		if err := os.Mkdir(s, 0o700); err != nil {
			return err
		}
		if err := idmap.Mount(l, s, u.file, false); err != nil {
			return fmt.Errorf("layer %d: %w", i, err)
		}
		staged = append(staged, s)
	}
	if err := u.ids.GiveToRoot(filepath.Join(dataDir, "upper")); err != nil {
		return err
	}
	return mountOverlay(staged, dataDir, target)
}

// idmappedDir holds a container's idmapped bind mount sources.
func idmappedDir(bundle string) string { return filepath.Join(bundle, "idmap") }

// stageIDMappedMounts returns cfg with each private bind mount's source
// replaced by an idmapped copy of it under the bundle. A source whose
// filesystem takes no idmapped mounts is bound as it is (its files then
// show as nobody's inside), and said so in the log.
func stageIDMappedMounts(cfg *runtime.ContainerConfig, bundle string, u *podUserns) (*runtime.ContainerConfig, error) {
	if u == nil || len(cfg.GetMounts()) == 0 {
		return cfg, nil
	}
	dir := idmappedDir(bundle)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	out := cloneConfig(cfg)
	for i, mnt := range out.Mounts {
		if mnt.GetPropagation() != runtime.MountPropagation_PROPAGATION_PRIVATE {
			continue // a propagating mount must stay the host's own mount
		}
		st, err := os.Stat(mnt.GetHostPath())
		if err != nil {
			return nil, err
		}
		target := filepath.Join(dir, strconv.Itoa(i))
		if st.IsDir() {
			err = os.Mkdir(target, 0o700)
		} else {
			err = os.WriteFile(target, nil, 0o600)
		}
		if err != nil {
			return nil, err
		}
		if err := idmap.Mount(mnt.GetHostPath(), target, u.file, true); err != nil {
			slog.Warn("bind mount without ID mapping: its files show as nobody's in the user namespace",
				"container_path", mnt.GetContainerPath(), "host_path", mnt.GetHostPath(), "err", err)
			os.Remove(target)
			continue
		}
		mnt.HostPath = target
	}
	return out, nil
}

// unstageIDMappedMounts unmounts and removes the idmapped sources; if one
// cannot be removed (still mounted) it fails, so that nothing removes the
// bundle through a mount. Missing ones are fine.
func unstageIDMappedMounts(bundle string) error {
	dir := idmappedDir(bundle)
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
			errs = append(errs, fmt.Errorf("unmount %s: %w", p, err))
			continue
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		if err := os.Remove(dir); err != nil && !os.IsNotExist(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// sameUserNamespace refuses a container whose user namespace request is
// not its pod's: it can only join the pod's (none given means the pod's).
func sameUserNamespace(p *pod.Sandbox, cfg *runtime.ContainerConfig) error {
	want := p.Config().GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()
	got := cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()
	if got == nil || proto.Equal(got, want) || got.GetMode() == runtime.NamespaceMode_NODE && want.GetMode() == runtime.NamespaceMode_NODE {
		return nil
	}
	return errdefs.InvalidArgument("config.linux.security_context.namespace_options.userns_options: "+
		"a container joins its pod's user namespace (pod: %s, container: %s)", want.GetMode(), got.GetMode())
}
