// Package integration holds berth's root integration tests: each starts a
// real berthd on a temp root and socket and drives it over the CRI, with
// real registries on 127.0.0.1. They need root (CI runs as root) and skip
// otherwise, saying why.
package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// berthdBin and berthBin are the daemon and CLI under test, built once per run.
var berthdBin, berthBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Geteuid() != 0 {
		fmt.Println("integration: not root; the root integration tests will be skipped")
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "berth-integration-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	berthdBin, berthBin = filepath.Join(dir, "berthd"), filepath.Join(dir, "berth")
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/berth-runtime/berth/cmd/berthd", "github.com/berth-runtime/berth/cmd/berth", "github.com/berth-runtime/berth/cmd/berth-shim", "github.com/berth-runtime/berth/cmd/berth-pause")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	// Static binaries, as `make build` makes them: a shim without libc is smaller.
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build berth binaries:", err)
		return 1
	}
	defer stopSharedRegistry()
	return m.Run()
}

// requireRoot skips a root-only test when not root.
func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("root only: berthd mounts, unpacks as root and owns /run paths")
	}
}
