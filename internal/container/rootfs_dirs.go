package container

import (
	"os"
	"path/filepath"
)

// makeRootfsDirs makes a container's bundle (with its rootfs mount point)
// and its overlay data dir. Both are 0700: nobody but root may reach a
// container's files from the host (a setuid binary in an image would
// otherwise run as root for any local user). The overlay upper dir is
// 0755 because it becomes the container's "/", which its non-root users
// must be able to read.
func makeRootfsDirs(bundle, data string) error {
	for _, d := range []string{bundle, filepath.Join(bundle, "rootfs"), data, filepath.Join(data, "work")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	upper := filepath.Join(data, "upper")
	if err := os.Mkdir(upper, 0o755); err != nil && !os.IsExist(err) {
		return err
	}
	return os.Chmod(upper, 0o755) // whatever the umask
}
