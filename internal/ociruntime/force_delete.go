package ociruntime

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ForceDelete removes the runtime's state of id, killing what still runs,
// for processes whose shim is gone. No state is fine.
func (r Runtime) ForceDelete(id string) error {
	if _, err := os.Stat(filepath.Join(r.Root, id)); err != nil {
		return nil
	}
	err := Run(context.Background(), "delete", r.Delete(id, true))
	if err != nil && !strings.Contains(err.Error(), "not exist") {
		return err
	}
	return nil
}

// Run runs one runtime command from berthd (the shim runs its own through
// its reaper): ForceDelete, and a checkpoint's pause, checkpoint and
// resume. A failure carries the runtime's output.
func Run(ctx context.Context, verb string, argv []string) error {
	if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", filepath.Base(argv[0]), verb, err, strings.TrimSpace(string(out)))
	}
	return nil
}
