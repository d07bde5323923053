package integration

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/test/fixture"
)

// openPTY opens a pseudo-terminal: its master, and its slave for a child's
// stdout and stderr.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetUint32(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	return master, slave
}

// onTerminal runs the CLI with its stdout and stderr on a pseudo-terminal
// and returns what the terminal received.
func onTerminal(t *testing.T, b *berthd, args ...string) string {
	t.Helper()
	master, slave := openPTY(t)
	defer master.Close()
	cmd := exec.Command(berthBin, append([]string{"--endpoint", b.Socket}, args...)...)
	cmd.Stdout, cmd.Stderr = slave, slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child holds it: reads end (EIO) when it exits
	var out bytes.Buffer
	copied := make(chan struct{})
	go func() { io.Copy(&out, master); close(copied) }()
	err := cmd.Wait()
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatal("the terminal's output did not end")
	}
	if err != nil {
		t.Fatalf("berth %v on a terminal: %v\n%q", args, err, out.String())
	}
	return out.String()
}

// TestCLIPullDrawsProgressBarsOnATerminal (root): on a terminal, pull draws
// one bar per layer, redrawn in place (cursor up, clear line) while bytes
// arrive over a slow link, each ending "done"; push redraws its bar on one
// line; piped, the same commands print plain lines without escapes.
func TestCLIPullDrawsProgressBarsOnATerminal(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	proxy.SetFault(fixture.Fault{Pace: 15 * time.Millisecond})
	b := startBerthd(t, "")
	ref := proxy.Addr + "/multilayer:latest"

	out := onTerminal(t, b, "pull", ref)
	layerLine := regexp.MustCompile(`([0-9a-f]{12})  \[`)
	layers := map[string]bool{}
	for _, m := range layerLine.FindAllStringSubmatch(out, -1) {
		layers[m[1]] = true
	}
	if len(layers) < 2 {
		t.Fatalf("want a bar per layer of the multi-layer image, saw %d:\n%q", len(layers), out)
	}
	for id := range layers {
		if !regexp.MustCompile(id + `  \[=+\]  \S+  done`).MatchString(out) {
			t.Errorf("layer %s has no finished bar:\n%q", id, out)
		}
	}
	if !regexp.MustCompile(`\[=*> *\]  \S+ / \S+  \S+/s`).MatchString(out) {
		t.Errorf("no bar drawn part way (with bytes, total and rate) over a slow link:\n%q", out)
	}
	if !strings.Contains(out, "\x1b[2K") || !regexp.MustCompile(`\x1b\[\d+A`).MatchString(out) {
		t.Errorf("bars are not redrawn in place (clear line, cursor up):\n%q", out)
	}

	mustCLI(t, b, "rmi", ref)
	piped := mustCLI(t, b, "pull", ref)
	if strings.Contains(piped, "\x1b") || !strings.Contains(piped, ": pulled ") {
		t.Errorf("piped pull output:\n%q", piped)
	}

	target := ti.Addr() + "/tty/multilayer:v1"
	pushed := onTerminal(t, b, "push", ref, target)
	if !strings.Contains(pushed, "\r\x1b[2K"+target+"  [") || !strings.Contains(pushed, "Pushed "+target+": sha256:") {
		t.Errorf("push on a terminal:\n%q", pushed)
	}
}
