// Package e2e runs Kubernetes on berth (root): a control plane on
// 127.0.0.1 and two berth nodes (berthd and a kubelet each), all built
// from the Go module proxy by hack/build-k8s.sh; `make e2e` builds them
// and sets BERTH_E2E_BIN. The user flows of a cluster are asserted one by
// one, then the sig-node conformance specs run through e2e.test. Nothing
// leaves 127.0.0.0/8 and the namespaces the nodes make: every registry the
// specs name is mirrored to a local one with mirrors_only, and pods get a
// resolv.conf naming their own loopback.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// berthBin holds berthd, berth-shim, berth-pause and berth, built once.
var berthBin string

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	if os.Getenv("BERTH_E2E_BIN") == "" || os.Geteuid() != 0 {
		return m.Run() // the tests skip, saying why
	}
	dir, err := os.MkdirTemp("", "berth-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	build := exec.Command("go", "build", "-o", dir+"/", "github.com/berth-runtime/berth/cmd/...")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build berth binaries:", err)
		return 1
	}
	berthBin = dir
	return m.Run()
}

func requireE2E(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("BERTH_E2E_BIN")
	if bin == "" {
		t.Skip("BERTH_E2E_BIN is not set (make e2e builds the Kubernetes binaries and sets it)")
	}
	if os.Geteuid() != 0 {
		t.Skip("root only: the nodes run containers")
	}
	return bin
}

// k8sSource is k8s.io/kubernetes in the module cache, for the data files
// of test/images.
func k8sSource(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(string(out[:len(out)-1]), "k8s.io", "kubernetes@"+filepath.Base(bin))
	if _, err := os.Stat(dir); err != nil {
		t.Fatalf("the kubernetes module's source: %v", err)
	}
	return dir
}
