package pod

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/ocispec"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// startInfra runs berth-pause as PID 1 of the pod's shared PID namespace;
// pods without one need no infra process at all.
func (m *Manager) startInfra(ctx context.Context, s *Sandbox) error {
	if !s.SharesPID() {
		return nil
	}
	rt, ok := m.opts.Runtimes[s.Handler]
	if !ok {
		return errdefs.FailedPrecondition("runtime handler %q is not configured", s.Handler)
	}
	bundle := filepath.Join(s.Dir, "infra")
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o711); err != nil {
		return err
	}
	nsPaths := ocispec.Pod{NetNS: s.NetNS, IPCNS: s.IPCNS, UTSNS: s.UTSNS, UserNS: s.UserNS}
	if ids := s.IDMappings(); ids != nil && s.UserNS != "" {
		nsPaths.UIDMappings, nsPaths.GIDMappings = ids.OCI()
		// runc's init walks to the rootfs as the pod's root.
		if err := ids.GiveToRoot(s.Dir, bundle, filepath.Join(bundle, "rootfs")); err != nil {
			return err
		}
	}
	spec := ocispec.InfraSpec(filepath.Join(bundle, "rootfs"), m.opts.PauseBinary, strings.TrimSuffix(s.Cgroup, "/")+"/pause",
		nsPaths, m.opts.MinOOMScoreAdj)
	unmountImage := func() {}
	if m.opts.PauseImage != "" && m.opts.InfraImage != nil {
		args, undo, err := m.opts.InfraImage(ctx, m.opts.PauseImage, bundle)
		if err != nil {
			return err
		}
		unmountImage = undo
		spec.Process.Args = args
		spec.Mounts = spec.Mounts[:len(spec.Mounts)-1] // no berth-pause bind mount
	}
	data, err := json.Marshal(spec)
	if err == nil {
		err = os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600)
	}
	if err != nil {
		unmountImage()
		return err
	}
	client := m.Shim(s)
	st, err := client.Create(ctx, s.ID, &wire.CreateRequest{Bundle: bundle, Runtime: rt.Path, RuntimeRoot: rt.Root})
	if err != nil {
		unmountImage()
		return fmt.Errorf("create infra process: %w", err)
	}
	if _, err := client.Start(ctx, s.ID); err != nil {
		client.Delete(context.WithoutCancel(ctx), s.ID)
		unmountImage()
		return fmt.Errorf("start infra process: %w", err)
	}
	s.InfraPid = st.Pid // from here the pod's teardown ends it
	return nil
}

// stopInfra ends the infra process; a pod without one, or one already
// gone, is fine.
func (m *Manager) stopInfra(ctx context.Context, s *Sandbox) error {
	if s.InfraPid <= 0 {
		return unmountInfraImage(filepath.Join(s.Dir, "infra"))
	}
	_, err := m.Shim(s).Delete(ctx, s.ID)
	if errors.Is(err, shim.ErrShimGone) {
		if rt, ok := m.opts.Runtimes[s.Handler]; ok {
			err = rt.ForceDelete(s.ID) // nobody holds the infra process any more
		}
	}
	if err != nil && !errdefs.Is(err, errdefs.ErrNotFound) && !errors.Is(err, shim.ErrShimGone) {
		return fmt.Errorf("stop infra process: %w", err)
	}
	return unmountInfraImage(filepath.Join(s.Dir, "infra"))
}

// unmountInfraImage undoes the rootfs of an infra process that ran from the
// pause image; without one there is nothing mounted and this does nothing.
func unmountInfraImage(bundle string) error {
	rootfs := filepath.Join(bundle, "rootfs")
	if _, err := os.Lstat(rootfs); os.IsNotExist(err) {
		return nil // no infra process ran from an image here
	}
	if err := unix.Unmount(rootfs, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("unmount infra rootfs: %w", err)
	}
	return os.RemoveAll(filepath.Join(bundle, "data"))
}
