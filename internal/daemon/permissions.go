package daemon

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/berth-runtime/berth/internal/config"
)

// makePrivateDirs creates berthd's root and state dirs (and the socket's
// dir if missing) with mode 0700, and tightens an existing install: root,
// state and the dirs berth keeps per container and pod, which older
// releases made 0711. Only root may reach anything below them.
func makePrivateDirs(cfg *config.Config) error {
	for _, dir := range []string{cfg.Root, cfg.State} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("create %s: %w", dir, err)
		}
		if err := tighten(dir); err != nil {
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
		if err := tighten(parent); err != nil {
			return err
		}
		entries, err := os.ReadDir(parent)
		if err != nil && !os.IsNotExist(err) {
			return err
		}
		for _, e := range entries {
			if e.IsDir() {
				if err := tighten(filepath.Join(parent, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// tighten makes an existing dir 0700; a missing one is fine.
func tighten(dir string) error {
	st, err := os.Lstat(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if !st.IsDir() || st.Mode().Perm() == 0o700 {
		return nil
	}
	slog.Info("tightening permissions", "dir", dir, "was", st.Mode().Perm().String())
	if err := os.Chmod(dir, 0o700); err != nil {
		return fmt.Errorf("tighten %s: %w", dir, err)
	}
	return nil
}
