package main

import (
	"os/exec"
	"strings"
	"testing"
)

// The CLI links no daemon code: what it shares with berthd is in
// internal/berthinfo, a leaf.
func TestCLILinksNoDaemonCode(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps", "github.com/berth-runtime/berth/cmd/berth").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.etcd.io/bbolt", "github.com/containernetworking/cni/libcni", "github.com/containerd/cgroups",
			"k8s.io/cri-streaming/pkg/streaming", "/internal/pod", "/internal/container", "/internal/image", "/internal/cri",
			"/internal/daemon", "/internal/store", "/internal/network", "/internal/shim"} {
			if strings.HasPrefix(pkg, banned) || strings.HasSuffix(pkg, banned) {
				t.Errorf("cmd/berth links %s", pkg)
			}
		}
	}
}
