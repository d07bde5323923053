package daemon

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/berth-runtime/berth/internal/config"
)

// makePrivateDirs creates berthd's root and state dirs (and the socket's
// dir if missing) and sets their modes on an existing install too: root
// 0700; state and its containers and pods dirs 0711, because a pod with
// its own user namespace runs as a host UID that must pass through them to
// its rootfs (nothing in them can be listed, and each dir below is 0700,
// owned by root or by that pod's root). The dirs berth keeps per container
// and pod, which older releases made 0711, are made 0700.
func makePrivateDirs(cfg *config.Config) error {
	for _, d := range []struct {
		path string
		mode os.FileMode
	}{
		{cfg.Root, 0o700}, {cfg.State, 0o711}, {filepath.Join(cfg.Root, "containers"), 0o700},
		{filepath.Join(cfg.State, "containers"), 0o711}, {filepath.Join(cfg.State, "pods"), 0o711},
	} {
		if err := os.MkdirAll(d.path, d.mode); err != nil {
			return fmt.Errorf("create %s: %w", d.path, err)
		}
		if err := setMode(d.path, d.mode); err != nil {
			return err
		}
	}
	// The socket's dir may be shared (/run): create it private, never chmod it.
	if err := os.MkdirAll(filepath.Dir(cfg.Listen), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(cfg.Listen), err)
	}
	for _, parent := range []string{
		filepath.Join(cfg.Root, "containers"), filepath.Join(cfg.State, "containers"), filepath.Join(cfg.State, "pods"),
	} {
		entries, err := os.ReadDir(parent)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		for _, e := range entries {
			if e.IsDir() {
				if err := setMode(filepath.Join(parent, e.Name()), 0o700); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// setMode gives an existing dir mode; a missing one is fine.
func setMode(dir string, mode os.FileMode) error {
	st, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() || st.Mode().Perm() == mode {
		return nil
	}
	slog.Info("setting permissions", "dir", dir, "was", st.Mode().Perm().String(), "now", mode.String())
	if err := os.Chmod(dir, mode); err != nil {
		return fmt.Errorf("chmod %s: %w", dir, err)
	}
	return nil
}
