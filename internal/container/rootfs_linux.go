package container

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// maxMountData is the kernel's limit on mount options (one page).
const maxMountData = 4096

// mountOverlay mounts lower (top layer first) with dataDir's upper and work
// directories at target.
func mountOverlay(lower []string, dataDir, target string) error {
	if len(lower) == 0 {
		return fmt.Errorf("image has no layers")
	}
	opts := fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s", strings.Join(lower, ":"),
		filepath.Join(dataDir, "upper"), filepath.Join(dataDir, "work"))
	if len(opts) >= maxMountData {
		return fmt.Errorf("overlay options for %d layers exceed the kernel's %d bytes", len(lower), maxMountData)
	}
	if err := unix.Mount("overlay", target, "overlay", 0, opts); err != nil {
		return fmt.Errorf("mount rootfs overlay: %w", err)
	}
	return nil
}

// unmountRootfs unmounts the rootfs; one not mounted is fine.
func unmountRootfs(target string) error {
	err := unix.Unmount(target, unix.MNT_DETACH)
	if err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("unmount rootfs %s: %w", target, err)
	}
	return nil
}
