package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// containerd is Debian's containerd (CI installs it) run for one test,
// everything of its own under a temp dir; ctr talks to it.
type containerd struct {
	t      *testing.T
	socket string
}

func startContainerd(t *testing.T) *containerd {
	t.Helper()
	if _, err := exec.LookPath("containerd"); err != nil {
		t.Fatal("containerd is not installed (Debian package containerd; .ci/run installs it)")
	}
	dir := t.TempDir()
	c := &containerd{t: t, socket: filepath.Join(dir, "containerd.sock")}
	cfg := filepath.Join(dir, "config.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`version = 2
root = %q
state = %q
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = %q
[ttrpc]
  address = %q
`, filepath.Join(dir, "root"), filepath.Join(dir, "state"), c.socket, c.socket+".ttrpc")), 0o600)
	cmd := exec.Command("containerd", "--config", cfg)
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.ctr("tasks", "rm", "-f", "berth-roundtrip") // in case a run was cut off
		cmd.Process.Kill()
		cmd.Wait()
		m := mountsUnder(dir + "/")
		for i := len(m) - 1; i >= 0; i-- { // deepest last in mountinfo
			exec.Command("umount", "-l", m[i]).Run()
		}
	})
	for end := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if _, err := c.ctr("version"); err == nil {
			return c
		}
		if time.Now().After(end) {
			t.Fatal("containerd did not start serving")
		}
	}
}

func (c *containerd) ctr(args ...string) (string, error) {
	out, err := exec.Command("ctr", append([]string{"--address", c.socket, "--namespace", "berth-test"}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("ctr %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

func (c *containerd) mustCtr(args ...string) string {
	c.t.Helper()
	out, err := c.ctr(args...)
	if err != nil {
		c.t.Fatal(err)
	}
	return out
}

// TestImagesRoundTripWithContainerd (root, needs Debian's containerd): an
// image berth saves is imported by ctr and runs under containerd; one ctr
// exports is loaded by berth and runs under berth; one berth pushes is
// pulled by ctr with the manifest digest berth reported.
func TestImagesRoundTripWithContainerd(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	ctrd := startContainerd(t)
	busybox := ti.Ref("busybox:latest")
	mustPull(t, b, busybox)
	dir := t.TempDir()
	for _, format := range []string{"docker", "oci"} {
		archive := filepath.Join(dir, "berth-"+format+".tar")
		mustCLI(t, b, "save", "--format", format, "-o", archive, busybox)
		ctrd.mustCtr("images", "import", archive)
		if out := ctrd.mustCtr("images", "ls", "-q"); !strings.Contains(out, busybox) {
			t.Fatalf("ctr import of berth's %s archive: images %q", format, out)
		}
		if out := ctrd.mustCtr("run", "--rm", busybox, "berth-roundtrip", "echo", "under containerd"); out != "under containerd\n" {
			t.Fatalf("berth's %s archive under containerd printed %q", format, out)
		}
		ctrd.mustCtr("images", "rm", busybox)
	}
	// ctr export -> berth load.
	other := ti.Ref("multilayer:latest")
	ctrd.mustCtr("images", "pull", "--plain-http", other)
	exported := filepath.Join(dir, "ctr.tar")
	ctrd.mustCtr("images", "export", exported, other)
	out := mustCLI(t, b, "load", "-i", exported)
	if !strings.Contains(out, "Loaded image: "+other) {
		t.Fatalf("berth load of ctr's export said %q", out)
	}
	if got := imageIDs(t, b); !strings.Contains(strings.Join(got, "\n"), ti.MultiLayerID+" "+other) {
		t.Fatalf("after loading ctr's export: %q", got)
	}
	if out := mustCLI(t, b, "run", "--rm", "--log-dir", t.TempDir(), other, "echo", "under berth"); out != "under berth\n" {
		t.Fatalf("ctr's export under berth printed %q", out)
	}
	// berth push -> ctr pull: the same manifest.
	pushed := ti.Addr() + "/roundtrip/box:pushed"
	m := regexp.MustCompile(`Pushed \S+: (sha256:[0-9a-f]{64})`).FindStringSubmatch(mustCLI(t, b, "push", busybox, pushed))
	if m == nil {
		t.Fatal("push printed no digest")
	}
	ctrd.mustCtr("images", "pull", "--plain-http", pushed)
	if ls := ctrd.mustCtr("images", "ls"); !regexp.MustCompile(regexp.QuoteMeta(pushed) + `\s+\S+\s+` + m[1]).MatchString(ls) {
		t.Fatalf("ctr pulled %s with another digest than berth pushed (%s):\n%s", pushed, m[1], ls)
	}
}
