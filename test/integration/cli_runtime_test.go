package integration

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// mirrorConfig points docker.io at the shared test registry, so short
// names like "busybox" resolve offline.
// mirrorConfig serves docker.io from the test registry only: a name it
// lacks fails, never reaching out to the real registry.
func mirrorConfig(ti *testImages) string {
	return fmt.Sprintf("[[registry.hosts]]\nhost = \"docker.io\"\nmirrors = [\"http://%s\"]\nmirrors_only = true\n", ti.Addr())
}

func TestCLIRunPrintsAndExitsWithTheCode(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	out := mustCLI(t, b, "run", "--rm", "--log-dir", logDir, "busybox", "echo", "hi")
	if out != "hi\n" {
		t.Fatalf("berth run busybox echo hi printed %q", out)
	}
	if pods := mustCLI(t, b, "pods", "-q"); pods != "" {
		t.Fatalf("--rm left pods: %q", pods)
	}
	cmd := exec.Command(berthBin, "--endpoint", b.Socket, "run", "--rm", "--log-dir", logDir, "-e", "X=42", "busybox", "sh", "-c", "echo $X; exit 7")
	data, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 || string(data) != "42\n" {
		t.Fatalf("exit code: %v, output %q", err, data)
	}
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "f"), []byte("from host"), 0o644)
	if out := mustCLI(t, b, "run", "--rm", "--log-dir", logDir, "-v", src+":/mnt:ro", "busybox", "cat", "/mnt/f"); out != "from host" { // as written: no newline
		t.Fatalf("volume: %q", out)
	}
}

func TestCLIPodAndContainerVerbs(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	dir := t.TempDir()
	podFile := filepath.Join(dir, "pod.yaml")
	os.WriteFile(podFile, []byte(fmt.Sprintf("metadata:\n  name: clipod\n  namespace: default\n  uid: u1\nhostname: clihost\nlog_directory: %s\n", dir)), 0o644)
	ctrFile := filepath.Join(dir, "ctr.json")
	os.WriteFile(ctrFile, []byte(`{"metadata":{"name":"ticker"},"command":["sh","-c","trap 'exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"],"envs":[{"key":"A","value":"b"}],"log_path":"ticker.log"}`), 0o644)

	podID := strings.TrimSpace(mustCLI(t, b, "runp", podFile))
	mustCLI(t, b, "pull", "busybox")
	ctrID := strings.TrimSpace(mustCLI(t, b, "create", "clipod", ctrFile, "busybox"))
	if len(podID) != 64 || len(ctrID) != 64 {
		t.Fatalf("ids %q %q", podID, ctrID)
	}
	mustCLI(t, b, "start", ctrID[:8])
	if out := mustCLI(t, b, "ps"); !strings.Contains(out, ctrID[:13]) || !strings.Contains(out, "Up ") || !strings.Contains(out, "ticker") {
		t.Fatalf("ps:\n%s", out)
	}
	if out := mustCLI(t, b, "pods"); !strings.Contains(out, "clipod") || !strings.Contains(out, "READY") {
		t.Fatalf("pods:\n%s", out)
	}
	if out := mustCLI(t, b, "exec", "ticker", "sh", "-c", "echo $A; hostname"); out != "b\nclihost\n" {
		t.Fatalf("exec: %q", out)
	}
	time.Sleep(500 * time.Millisecond)
	out := mustCLI(t, b, "logs", "--tail", "2", "ticker")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.HasPrefix(lines[0], "tick ") {
		t.Fatalf("logs --tail 2: %q", out)
	}
	if out := mustCLI(t, b, "logs", "-t", "--tail", "1", "ticker"); !strings.Contains(out, "Z tick ") {
		t.Fatalf("logs -t: %q", out)
	}
	// logs -f follows until the container stops.
	follow := exec.Command(berthBin, "--endpoint", b.Socket, "logs", "-f", "--tail", "0", "ticker")
	var followed strings.Builder
	follow.Stdout = &followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond)
	mustCLI(t, b, "stop", "ticker")
	done := make(chan error, 1)
	go func() { done <- follow.Wait() }()
	select {
	case err := <-done:
		if err != nil || strings.Count(followed.String(), "tick ") < 2 {
			t.Fatalf("logs -f: %v %q", err, followed.String())
		}
	case <-time.After(10 * time.Second):
		follow.Process.Kill()
		t.Fatal("logs -f did not end when the container stopped")
	}
	if out := mustCLI(t, b, "ps", "-a", "-q"); strings.TrimSpace(out) != ctrID {
		t.Fatalf("ps -a -q: %q", out)
	}
	if out := mustCLI(t, b, "inspect", "ticker"); !strings.Contains(out, `"state": "CONTAINER_EXITED"`) {
		t.Fatalf("inspect:\n%s", out)
	}
	if out := mustCLI(t, b, "inspectp", "clipod"); !strings.Contains(out, `"state": "SANDBOX_READY"`) {
		t.Fatalf("inspectp:\n%s", out)
	}
	mustCLI(t, b, "rm", "ticker")
	mustCLI(t, b, "stopp", "clipod")
	mustCLI(t, b, "rmp", "clipod")
	if out := mustCLI(t, b, "pods", "-q"); out != "" {
		t.Fatalf("pods left: %q", out)
	}
	if out, err := berthCLI(t, b, "rm", "nosuch"); err == nil || !strings.Contains(out, "no such container") {
		t.Fatalf("rm nosuch: %v %q", err, out)
	}
}

func TestCLIRunPublishesAPort(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	mustPull(t, b, ti.Ref("web:latest"))
	port := freeTCPPort(t)
	id := strings.TrimSpace(mustCLI(t, b, "run", "-d", "--name", "pub", "--log-dir", t.TempDir(), "-p", fmt.Sprintf("127.0.0.1:%d:80", port),
		ti.Ref("web:latest")))
	if len(id) != 64 {
		t.Fatalf("run -d printed %q", id)
	}
	body := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if body != "hello from berth\n" {
		t.Fatalf("published port served %q", body)
	}
	if out := mustCLI(t, b, "pods"); !strings.Contains(out, "10.88.") {
		t.Fatalf("pods lacks the pod IP:\n%s", out)
	}
}

func TestCLIInteractiveExecAndPortForward(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	web := mustPull(t, b, ti.Ref("web:latest"))
	podID := webPod(t, b, web, podConfig(t, "cliweb"))
	cmd := exec.Command(berthBin, "--endpoint", b.Socket, "exec", "-i", "web", "sh", "-c", "cat; exit 7")
	cmd.Stdin = strings.NewReader("through stdin\n")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 || string(out) != "through stdin\n" {
		t.Fatalf("exec -i: %v %q", err, out)
	}
	pf := exec.Command(berthBin, "--endpoint", b.Socket, "port-forward", podID[:12], "0:80")
	stdout, _ := pf.StdoutPipe()
	if err := pf.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { pf.Process.Signal(syscall.SIGTERM); pf.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	var local int
	if _, serr := fmt.Sscanf(line, "Forwarding from 127.0.0.1:%d -> 80", &local); err != nil || serr != nil {
		t.Fatalf("port-forward said %q (%v)", line, err)
	}
	body := fetch(fmt.Sprintf("http://127.0.0.1:%d/", local))
	if body != "hello from berth\n" {
		t.Fatalf("berth port-forward served %q", body)
	}
}

func TestCLIStatsAndEvents(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	events := exec.Command(berthBin, "--endpoint", b.Socket, "events")
	stdout, _ := events.StdoutPipe()
	if err := events.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { events.Process.Kill(); events.Wait() }()
	time.Sleep(300 * time.Millisecond)
	mustCLI(t, b, "run", "-d", "--name", "statme", "--log-dir", t.TempDir(), "busybox", "sleep", "1000")
	out := mustCLI(t, b, "stats", "--no-stream")
	if !strings.Contains(out, "statme") || !strings.Contains(out, "CPU %") {
		t.Fatalf("stats:\n%s", out)
	}
	r := bufio.NewReader(stdout)
	for _, want := range []string{"CREATED", "STARTED"} {
		line, err := r.ReadString('\n')
		if err != nil || !strings.Contains(line, want) || !strings.Contains(line, "statme") {
			t.Fatalf("event line %q (%v), want %s of statme", line, err, want)
		}
	}
}
