package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestSecondBerthdOnTheSameNetworkRefusesToStart (root): a second berthd
// whose root, state and socket differ but whose default network (bridge,
// subnet) is the first one's does not start, and names the other; one
// configured apart runs pods beside it.
func TestSecondBerthdOnTheSameNetworkRefusesToStart(t *testing.T) {
	b := startBerthd(t, "")
	dir := t.TempDir()
	conf := filepath.Join(dir, "berth.toml")
	os.WriteFile(conf, []byte("[network]\nconf_dir = \""+filepath.Join(dir, "net.d")+"\"\n"), 0o600)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, berthdBin, "--config", conf, "--root", filepath.Join(dir, "root"),
		"--state", filepath.Join(dir, "state"), "--listen", filepath.Join(dir, "berth.sock")).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "bridge berth0 is in use by another berthd") || !strings.Contains(string(out), filepath.Dir(b.State)) {
		t.Fatalf("second berthd on berth0: %v\n%s", err, out)
	}
	apart := startBerthd(t, "[network]\nconf_dir = \""+filepath.Join(dir, "net2.d")+"\"\nbridge = \"berthtwo0\"\nsubnet = \"10.84.0.0/16\"\n")
	t.Cleanup(func() { exec.Command("ip", "link", "del", "berthtwo0").Run() })
	a := runPod(t, b, podConfig(t, "first"))
	c := runPod(t, apart, podConfig(t, "apart"))
	if ipA, ipC := statusIP(t, b, a), statusIP(t, apart, c); !strings.HasPrefix(ipA, "10.88.") || !strings.HasPrefix(ipC, "10.84.") {
		t.Fatalf("pod IPs %s and %s", ipA, ipC)
	}
	// Each berthd's leak check must find only its own pods gone.
	for _, x := range []struct {
		b  *berthd
		id string
	}{{b, a}, {apart, c}} {
		if _, err := x.b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: x.id}); err != nil {
			t.Fatal(err)
		}
	}
}
