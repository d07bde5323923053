package ociruntime

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ForceDelete removes the runtime's state of id, killing what still runs:
// berthd's one direct call of a runtime, for processes whose shim is gone.
// No state is fine.
func (r Runtime) ForceDelete(id string) error {
	if _, err := os.Stat(filepath.Join(r.Root, id)); err != nil {
		return nil
	}
	argv := r.Delete(id, true)
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil && !strings.Contains(string(out), "not exist") {
		return fmt.Errorf("%s delete %s: %v: %s", filepath.Base(r.Path), id, err, strings.TrimSpace(string(out)))
	}
	return nil
}
