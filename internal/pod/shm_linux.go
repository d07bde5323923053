package pod

import (
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// mountShm mounts the pod's own /dev/shm: a tmpfs of size bytes.
func mountShm(path string, size int64) error {
	if err := os.MkdirAll(path, 0o700); err != nil {
		return err
	}
	opts := fmt.Sprintf("mode=1777,size=%d", size)
	if err := unix.Mount("shm", path, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, opts); err != nil {
		os.Remove(path)
		return fmt.Errorf("mount pod shm: %w", err)
	}
	return nil
}

// unmountShm undoes mountShm; a path not mounted is fine.
func unmountShm(path string) error {
	if _, err := os.Lstat(path); path == "" || os.IsNotExist(err) {
		return nil
	}
	if err := unix.Unmount(path, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT {
		return fmt.Errorf("unmount pod shm: %w", err)
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
