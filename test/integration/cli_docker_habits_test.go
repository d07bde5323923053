package integration

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// cliExit runs the CLI and returns its stdout+stderr and exit code.
func cliExit(t *testing.T, b *berthd, args ...string) (string, int) {
	t.Helper()
	out, err := exec.Command(berthBin, append([]string{"--endpoint", b.Socket}, args...)...).CombinedOutput()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(out), 0
}

// TestCLIRunFlagsAsDocker (root): docker's run flags reach the container,
// the exit codes are docker's, names are unique, and nothing is left in
// the log dir.
func TestCLIRunFlagsAsDocker(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	run := func(args ...string) (string, int) {
		t.Helper()
		return cliExit(t, b, append([]string{"run", "--log-dir", logDir}, args...)...)
	}
	// The first run pulls, with its progress on stderr: stdout is the container's.
	cmd := exec.Command(berthBin, "--endpoint", b.Socket, "run", "--rm", "--log-dir", logDir, "busybox", "echo", "out")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err != nil || string(out) != "out\n" || !strings.Contains(stderr.String(), "pulled") {
		t.Fatalf("run with a pull: %v stdout %q stderr %q", err, out, stderr.String())
	}
	out, code := run("--rm", "-w", "/tmp", "-u", "1234:5678", "--hostname", "hal", "busybox", "sh", "-c", "pwd; id -u; id -g; hostname")
	if code != 0 || out != "/tmp\n1234\n5678\nhal\n" {
		t.Errorf("-w -u --hostname: exit %d, container saw %q", code, out)
	}
	// The limits reach the runtime (their enforcement is tested with the CRI).
	mustCLI(t, b, "run", "-d", "--name", "limited", "--log-dir", logDir, "-m", "64m", "--cpus", "0.5", "busybox", "sleep", "1000")
	var inspect struct {
		Status struct {
			Resources struct {
				Linux struct {
					MemoryLimitInBytes, CPUQuota, CPUPeriod string
				} `json:"linux"`
			} `json:"resources"`
		} `json:"status"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, b, "inspect", "limited")), &inspect); err != nil {
		t.Fatal(err)
	}
	if l := inspect.Status.Resources.Linux; l.MemoryLimitInBytes != "67108864" || l.CPUQuota != "50000" || l.CPUPeriod != "100000" {
		t.Errorf("-m 64m --cpus 0.5: the container has %+v", l)
	}
	mustCLI(t, b, "rm", "-f", "limited")
	if out, code := run("--rm", "--entrypoint", "/bin/echo", "busybox", "from", "entrypoint"); code != 0 || out != "from entrypoint\n" {
		t.Errorf("--entrypoint: %d %q", code, out)
	}
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("# a comment\nFROM_FILE=file value\n"), 0o600)
	if out, code := run("--rm", "--env-file", envFile, "busybox", "sh", "-c", "echo $FROM_FILE"); code != 0 || out != "file value\n" {
		t.Errorf("--env-file: %d %q", code, out)
	}
	// docker's exit codes: the container's, 127 for a missing command, 126
	// for one that cannot be run, 125 for berth's own failures.
	if _, code := run("--rm", "busybox", "sh", "-c", "exit 42"); code != 42 {
		t.Errorf("exit 42 gave %d", code)
	}
	if out, code := run("--rm", "busybox", "no-such-command"); code != 127 || !strings.Contains(out, "no-such-command") {
		t.Errorf("a missing command: exit %d %q, want 127", code, out)
	}
	if out, code := run("--rm", "busybox", "/etc/passwd"); code != 126 {
		t.Errorf("a command that is not executable: exit %d %q, want 126", code, out)
	}
	if _, code := run("--no-such-flag", "busybox"); code != 125 {
		t.Errorf("an unknown flag: exit %d, want 125", code)
	}
	if _, code := run("-z", "busybox"); code != 125 {
		t.Errorf("an unknown short flag: exit %d, want 125", code)
	}
	if _, code := run("--rm", "127.0.0.1:1/nothing:here", "true"); code != 125 {
		t.Errorf("an image that cannot be pulled: exit %d, want 125", code)
	}
	// Names are unique.
	mustCLI(t, b, "run", "-d", "--name", "only", "--log-dir", logDir, "busybox", "sleep", "1000")
	if out, code := run("-d", "--name", "only", "busybox", "true"); code != 125 || !strings.Contains(out, "already in use") {
		t.Errorf("a second --name only: exit %d %q, want 125 and 'already in use'", code, out)
	}
	if pods := mustCLI(t, b, "pods", "-q"); strings.Count(pods, "\n") != 1 {
		t.Errorf("the refused run left a pod: %q", pods)
	}
	mustCLI(t, b, "rm", "-f", "only")
	// --rm with -d: berthd removes the pod once the container exits, then
	// its log dir.
	mustCLI(t, b, "run", "-d", "--rm", "--name", "brief", "--log-dir", logDir, "busybox", "sleep", "0.5")
	waitUntil(t, 20*time.Second, "the --rm -d pod and its log dir to be removed", func() bool {
		left, _ := os.ReadDir(logDir)
		return mustCLI(t, b, "pods", "-q") == "" && len(left) == 0
	})
	// Nothing is left in the log dir by any of these runs.
	if left, _ := os.ReadDir(logDir); len(left) != 0 {
		var names []string
		for _, e := range left {
			names = append(names, e.Name())
		}
		t.Errorf("left in the log dir: %v", names)
	}
}

// TestCLIRunPublishesAsDocker (root): -p with no host port and -P pick free
// ports; a port a host process listens on, or another pod publishes, is
// refused before anything is made.
func TestCLIRunPublishesAsDocker(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	web := ti.Ref("web:latest")
	mustPull(t, b, web)
	logDir := t.TempDir()
	mustCLI(t, b, "run", "-d", "--name", "any", "--log-dir", logDir, "-p", "127.0.0.1::80", web)
	mustCLI(t, b, "run", "-d", "--name", "all", "--log-dir", logDir, "-P", web)
	for _, name := range []string{"any", "all"} {
		out := mustCLI(t, b, "inspectp", name)
		m := regexp.MustCompile(`"host_port":\s*(\d+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: no host port in its pod:\n%s", name, out)
		}
		if body := fetch("http://127.0.0.1:" + m[1] + "/"); body != "hello from berth\n" {
			t.Errorf("%s: the picked port %s served %q", name, m[1], body)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	if out, code := cliExit(t, b, "run", "-d", "--log-dir", logDir, "-p", fmt.Sprintf("127.0.0.1:%d:80", busy), web); code != 125 || !strings.Contains(out, "already allocated") {
		t.Errorf("a port a host process listens on: exit %d %q", code, out)
	}
	port := freeTCPPort(t)
	mustCLI(t, b, "run", "-d", "--name", "first", "--log-dir", logDir, "-p", fmt.Sprintf("%d:80", port), web)
	if out, code := cliExit(t, b, "run", "-d", "--log-dir", logDir, "-p", fmt.Sprintf("127.0.0.1:%d:80", port), web); code != 125 || !strings.Contains(out, "pod first publishes it") {
		t.Errorf("a port another pod publishes: exit %d %q", code, out)
	}
	if pods := mustCLI(t, b, "pods", "-q"); strings.Count(pods, "\n") != 3 {
		t.Errorf("refused runs left pods: %q", pods)
	}
	for _, name := range []string{"any", "all", "first"} {
		mustCLI(t, b, "rm", "-f", name)
	}
	if left, _ := os.ReadDir(logDir); len(left) != 0 {
		t.Errorf("rm left %d log dirs", len(left))
	}
}

// TestCLIRunInteractive (root): run -it on a terminal (script(1) gives it
// one) talks to the container's shell; -i alone pipes stdin through.
func TestCLIRunInteractive(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	mustPull(t, b, ti.Ref("busybox:latest"))
	logDir := t.TempDir()
	cmd := exec.Command(berthBin, "--endpoint", b.Socket, "run", "--rm", "-i", "--log-dir", logDir, "busybox", "sh", "-c", "cat; exit 3")
	cmd.Stdin = strings.NewReader("through stdin\n")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 || string(out) != "through stdin\n" {
		t.Errorf("run -i: %v %q", err, out)
	}
	tty := exec.Command("script", "-qec", fmt.Sprintf("%s --endpoint %s run --rm -it --log-dir %s busybox sh -c 'tty; read line; echo got $line; exit 5'",
		berthBin, b.Socket, logDir), "/dev/null")
	stdin, _ := tty.StdinPipe()
	var buf strings.Builder
	tty.Stdout, tty.Stderr = &buf, &buf
	if err := tty.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(2 * time.Second)
		stdin.Write([]byte("typed\r"))
	}()
	err = tty.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 5 || !strings.Contains(buf.String(), "/dev/pts/") || !strings.Contains(buf.String(), "got typed") {
		t.Errorf("run -it: %v %q", err, buf.String())
	}
	if pods := mustCLI(t, b, "pods", "-q"); pods != "" {
		t.Errorf("run --rm left pods: %q", pods)
	}
}

// waitUntil polls ok every 100 ms until it holds or within passes.
func waitUntil(t *testing.T, within time.Duration, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestCLIKillAndTop (root): kill -s sends the signal the container traps;
// kill (KILL) ends it; top lists its processes as ps on the node sees them.
func TestCLIKillAndTop(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	mustCLI(t, b, "run", "-d", "--name", "trapper", "--log-dir", logDir, "busybox", "sh", "-c",
		"trap 'echo got HUP' HUP; sleep 1000 & wait; sleep 1000 & wait")
	var last string
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		last, _ = cliExit(t, b, "top", "trapper")
		if regexp.MustCompile(`(?m) sleep 1000$`).MatchString(last) && strings.Contains(last, "sh -c trap") {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("top does not show the shell and its sleep:\n%s", last)
		}
	}
	out := mustCLI(t, b, "top", "trapper")
	if !strings.HasPrefix(out, "UID") || !strings.Contains(out, "PID") {
		t.Errorf("top: %q, want ps -f's table", out)
	}
	mustCLI(t, b, "kill", "-s", "HUP", "trapper")
	waitUntil(t, 10*time.Second, "the trapped HUP in the log", func() bool {
		return strings.Contains(mustCLI(t, b, "logs", "trapper"), "got HUP")
	})
	if out := mustCLI(t, b, "ps", "-a", "-f", "name=trapper", "--format", "{{.Status}}"); !strings.HasPrefix(out, "Up ") {
		t.Errorf("a trapped HUP ended the container:\n%s", out)
	}
	if out, code := cliExit(t, b, "kill", "-s", "NOSUCH", "trapper"); code != 125 || !strings.Contains(out, "not a signal") {
		t.Errorf("kill -s NOSUCH: exit %d %q", code, out)
	}
	mustCLI(t, b, "kill", "trapper")
	waitUntil(t, 10*time.Second, "the container to exit after KILL", func() bool {
		return strings.HasPrefix(mustCLI(t, b, "ps", "-a", "-f", "exited=137", "--format", "{{.Names}} {{.Status}}"), "trapper Exited (137) ")
	})
	// docker's table: the image by name, the command, the status, the ports.
	mustCLI(t, b, "run", "-d", "--name", "pub", "--log-dir", logDir, "-p", "127.0.0.1::80", "busybox", "sleep", "1000")
	table := mustCLI(t, b, "ps", "-a")
	for _, want := range []string{"CONTAINER ID", "COMMAND", "PORTS", "busybox", `"sleep 1000"`, "Up ", "127.0.0.1:", "->80/tcp", "Exited (137)", "trapper", "pub"} {
		if !strings.Contains(table, want) {
			t.Errorf("ps -a lacks %q:\n%s", want, table)
		}
	}
	if out := mustCLI(t, b, "ps", "-f", "status=running", "-q"); strings.Count(out, "\n") != 1 {
		t.Errorf("ps -f status=running -q: %q, want one ID", out)
	}
	if out, code := cliExit(t, b, "ps", "-f", "colour=red"); code != 125 {
		t.Errorf("an unknown filter: exit %d %q", code, out)
	}
	mustCLI(t, b, "rm", "-f", "pub")
	if out, code := cliExit(t, b, "kill", "trapper"); code == 0 || !strings.Contains(out, "not running") {
		t.Errorf("kill of an exited container: exit %d %q", code, out)
	}
	mustCLI(t, b, "rm", "trapper")
}

// TestCLICopyBothWays (root): cp of a tree into a container and back, and
// of one file; the copies are byte for byte the originals.
func TestCLICopyBothWays(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	mustCLI(t, b, "run", "-d", "--name", "box", "--log-dir", t.TempDir(), "busybox", "sleep", "1000")
	src := filepath.Join(t.TempDir(), "tree")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	big := strings.Repeat("berth cp\n", 100000)
	os.WriteFile(filepath.Join(src, "sub", "big.txt"), []byte(big), 0o640)
	os.WriteFile(filepath.Join(src, "small"), []byte("small\n"), 0o600)
	mustCLI(t, b, "cp", src, "box:/tmp/")
	if out := mustCLI(t, b, "exec", "box", "sh", "-c", "wc -c < /tmp/tree/sub/big.txt; cat /tmp/tree/small"); out != fmt.Sprintf("%d\nsmall\n", len(big)) {
		t.Fatalf("in the container: %q", out)
	}
	back := t.TempDir()
	mustCLI(t, b, "cp", "box:/tmp/tree", back)
	if got, _ := os.ReadFile(filepath.Join(back, "tree", "sub", "big.txt")); string(got) != big {
		t.Fatalf("copied back %d bytes, want %d", len(got), len(big))
	}
	mustCLI(t, b, "cp", "box:/etc/hostname", filepath.Join(back, "name"))
	if got, _ := os.ReadFile(filepath.Join(back, "name")); string(got) != "box\n" {
		t.Fatalf("one file copied back: %q", got)
	}
	if out, code := cliExit(t, b, "cp", "box:/no/such/file", back); code == 0 {
		t.Errorf("cp of a missing file succeeded: %q", out)
	}
	mustCLI(t, b, "rm", "-f", "box")
}

// TestCLIPruneAndDF (root): container prune removes exited containers
// (and their run pods), image prune only unused images (untagged ones
// without -a), system df counts them.
func TestCLIPruneAndDF(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	mustPull(t, b, ti.Ref("multilayer:latest"))
	mustCLI(t, b, "run", "-d", "--name", "up", "--log-dir", logDir, "busybox", "sleep", "1000")
	mustCLI(t, b, "run", "-d", "--name", "done", "--log-dir", logDir, "busybox", "true")
	waitUntil(t, 10*time.Second, "done to exit", func() bool {
		return strings.HasPrefix(mustCLI(t, b, "ps", "-a", "-f", "name=done", "--format", "{{.State}}"), "exited")
	})
	// Shell completion asks the runtime for names.
	if out := mustCLI(t, b, "__complete", "stop", "u"); !strings.HasPrefix(out, "up\n") || strings.Contains(out, "done") {
		t.Errorf("completion of stop u: %q", out)
	}
	if out := mustCLI(t, b, "__complete", "rmi", ""); !strings.Contains(out, "/multilayer:latest") {
		t.Errorf("completion of rmi: %q", out)
	}
	df := mustCLI(t, b, "system", "df")
	if !regexp.MustCompile(`Images\s+2\s+1\s`).MatchString(df) || !regexp.MustCompile(`Containers\s+2\s+1\s`).MatchString(df) {
		t.Errorf("system df:\n%s", df)
	}
	if out := mustCLI(t, b, "container", "prune"); !strings.Contains(out, "Deleted 1 containers") {
		t.Errorf("container prune: %q", out)
	}
	if names := mustCLI(t, b, "ps", "-a", "--format", "{{.Names}}"); names != "up\n" {
		t.Errorf("after container prune: %q", names)
	}
	if out := mustCLI(t, b, "image", "prune"); !strings.Contains(out, "Deleted 0 images") {
		t.Errorf("image prune removed a tagged image: %q", out)
	}
	if out := mustCLI(t, b, "image", "prune", "-a"); !strings.Contains(out, "Deleted 1 images") {
		t.Errorf("image prune -a: %q", out)
	}
	if out := mustCLI(t, b, "images", "-q"); strings.Count(out, "\n") != 1 {
		t.Errorf("image prune -a removed the image in use, or left the other: %q", out)
	}
	mustCLI(t, b, "stop", "-t", "1", "up")
	if out := mustCLI(t, b, "system", "prune"); !strings.Contains(out, "Deleted 1 containers") {
		t.Errorf("system prune: %q", out)
	}
	if pods := mustCLI(t, b, "pods", "-q"); pods != "" {
		t.Errorf("system prune left pods: %q", pods)
	}
}
