package integration

import (
	"strings"
	"testing"
)

// TestCLIRunContainerTakesItsPodAlong (root): `berth stop` of a `berth run`
// container stops its pod too (IP and host ports freed) and `berth rm`
// removes both; a container in a pod made with runp is removed alone.
func TestCLIRunContainerTakesItsPodAlong(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	mustCLI(t, b, "run", "-d", "--name", "web", "--log-dir", logDir, "busybox", "sleep", "1000")
	if pods := mustCLI(t, b, "pods", "-q"); strings.Count(pods, "\n") != 1 {
		t.Fatalf("pods after run: %q", pods)
	}
	mustCLI(t, b, "stop", "-t", "1", "web")
	if out := mustCLI(t, b, "pods"); !strings.Contains(out, "NOTREADY") {
		t.Fatalf("the run pod is not stopped with its container:\n%s", out)
	}
	mustCLI(t, b, "rm", "web")
	if pods := mustCLI(t, b, "pods", "-q"); pods != "" {
		t.Fatalf("rm left the run container's pod: %q", pods)
	}
	mustCLI(t, b, "run", "-d", "--name", "web2", "--log-dir", logDir, "busybox", "sleep", "1000")
	mustCLI(t, b, "rm", "-f", "web2")
	if pods := mustCLI(t, b, "pods", "-q"); pods != "" {
		t.Fatalf("rm -f left the run container's pod: %q", pods)
	}
}
