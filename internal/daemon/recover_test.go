package daemon

import (
	"os"
	"path/filepath"
	"testing"
)

func TestBootChanged(t *testing.T) {
	dir := t.TempDir()
	if bootChanged(dir) {
		t.Fatal("a fresh state dir is not a reboot")
	}
	recordBoot(dir)
	if bootChanged(dir) {
		t.Fatal("same boot reported as a reboot")
	}
	os.WriteFile(filepath.Join(dir, bootIDFile), []byte("00000000-0000-0000-0000-000000000000\n"), 0o600)
	if !bootChanged(dir) {
		t.Fatal("another boot ID not reported as a reboot")
	}
}
