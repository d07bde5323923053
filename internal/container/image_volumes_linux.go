package container

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/image"
)

// Image volumes (KEP-4639): a CRI mount that names an image instead of a
// host path gets that image's filesystem, read-only, at its container
// path (or the image_sub_path directory of it). Each is stacked from the
// image's layers under <bundle>/volumes/<n> (an overlay with no upper
// layer; a read-only bind for a one-layer image) and bound into the
// container from there. Its layers are kept from image GC with the
// container's own.

// imageVolume is one such mount, resolved at creation.
type imageVolume struct {
	mount *runtime.Mount
	image *image.Record
	dir   string // where its filesystem is stacked
}

// resolveImageVolumes finds the images the config's image mounts name;
// the kubelet pulls them before it creates the container.
func (m *Manager) resolveImageVolumes(c *Container, cfg *runtime.ContainerConfig) ([]imageVolume, error) {
	var out []imageVolume
	for i, mnt := range cfg.GetMounts() {
		ref := mnt.GetImage().GetImage()
		if ref == "" {
			continue
		}
		img, err := m.opts.Images.Get(ref)
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return nil, errdefs.NotFound("mounts[%d].image: image %q is not present (pull it first)", i, ref)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, imageVolume{mount: mnt, image: img, dir: filepath.Join(c.Bundle, "volumes", strconv.Itoa(i))})
		c.Layers = append(c.Layers, img.ChainIDs()...)
	}
	return out, nil
}

// mountImageVolumes stacks each image volume (a creation step).
func (m *Manager) mountImageVolumes(_ context.Context, cr *creation) (func(), error) {
	undo := func() { unmountImageVolumes(cr.c.Bundle) }
	for _, v := range cr.volumes {
		if err := os.MkdirAll(v.dir, 0o700); err != nil {
			return undo, err
		}
		if err := mountReadOnlyLayers(m.opts.Images.LayerDirs(v.image), v.dir); err != nil {
			return undo, fmt.Errorf("image volume %s at %s: %w", v.image.ID, v.mount.GetContainerPath(), err)
		}
	}
	return undo, nil
}

// mountReadOnlyLayers stacks lower (top layer first) read-only at target.
func mountReadOnlyLayers(lower []string, target string) error {
	switch len(lower) {
	case 0:
		return fmt.Errorf("image has no layers")
	case 1: // overlayfs wants two lower layers when it has no upper one
		if err := unix.Mount(lower[0], target, "", unix.MS_BIND, ""); err != nil {
			return err
		}
		return unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, "")
	}
	opts := "lowerdir=" + strings.Join(lower, ":")
	if len(opts) >= maxMountData {
		return fmt.Errorf("overlay options for %d layers exceed the kernel's %d bytes", len(lower), maxMountData)
	}
	return unix.Mount("overlay", target, "overlay", unix.MS_RDONLY|unix.MS_NOSUID|unix.MS_NODEV, opts)
}

// unmountImageVolumes unmounts whatever is stacked under <bundle>/volumes;
// none mounted is fine.
func unmountImageVolumes(bundle string) error {
	dirs, _ := filepath.Glob(filepath.Join(bundle, "volumes", "*"))
	var first error
	for _, d := range dirs {
		if err := unix.Unmount(d, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT && first == nil {
			first = fmt.Errorf("unmount image volume %s: %w", d, err)
		}
	}
	return first
}

// withImageVolumeSources is cfg with each image mount turned into a
// read-only bind of its stacked filesystem (or image_sub_path in it,
// which must be a directory inside the image).
func withImageVolumeSources(cfg *runtime.ContainerConfig, volumes []imageVolume) (*runtime.ContainerConfig, error) {
	if len(volumes) == 0 {
		return cfg, nil
	}
	out := cloneConfig(cfg)
	for i, mnt := range out.Mounts {
		ref := mnt.GetImage().GetImage()
		if ref == "" {
			continue
		}
		var v *imageVolume
		for j := range volumes {
			if volumes[j].mount.GetContainerPath() == mnt.GetContainerPath() {
				v = &volumes[j]
			}
		}
		if v == nil {
			return nil, fmt.Errorf("mounts[%d]: image volume %q was not resolved", i, ref)
		}
		src := v.dir
		if sub := mnt.GetImageSubPath(); sub != "" {
			clean := filepath.Clean("/" + sub)
			if clean == "/" || sub != strings.TrimPrefix(clean, "/") && sub != clean {
				return nil, errdefs.InvalidArgument("mounts[%d].image_sub_path %q: want a plain relative path inside the image", i, sub)
			}
			resolved, err := filepath.EvalSymlinks(filepath.Join(v.dir, clean))
			if err != nil {
				return nil, errdefs.InvalidArgument("mounts[%d].image_sub_path %q: not in image %s: %v", i, sub, ref, err)
			}
			if resolved != v.dir && !strings.HasPrefix(resolved, v.dir+"/") {
				return nil, errdefs.InvalidArgument("mounts[%d].image_sub_path %q: leads out of the image", i, sub)
			}
			src = resolved
		}
		mnt.HostPath, mnt.Image, mnt.ImageSubPath = src, nil, ""
		mnt.Readonly = true // an image volume is never writable
	}
	return out, nil
}

func cloneConfig(cfg *runtime.ContainerConfig) *runtime.ContainerConfig {
	return proto.Clone(cfg).(*runtime.ContainerConfig)
}
