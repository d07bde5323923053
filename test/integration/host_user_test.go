package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// asNobody runs argv as the unprivileged host user nobody (uid and gid
// 65534, no supplementary groups) through setpriv; it returns the exit
// error and what was printed.
func asNobody(t *testing.T, argv ...string) (string, error) {
	t.Helper()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (util-linux) is needed: %v", err)
	}
	args := append([]string{"--reuid=65534", "--regid=65534", "--clear-groups", "--"}, argv...)
	out, err := exec.Command("setpriv", args...).CombinedOutput()
	return string(out), err
}

// TestUnprivilegedHostUserReachesNothing (root: runs berthd, then acts as
// nobody) checks that a local non-root user can list, read, write or
// execute nothing below berth's root, state and log dirs while pods and
// containers run: not a setuid-root file inside a running container's
// rootfs (CVE-2021-41091's class), not a pod's /dev/shm, not a log.
func TestUnprivilegedHostUserReachesNothing(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	// The test's own temp dir must not be what protects berth's dirs.
	if err := os.Chmod(b.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "hostuser")
	logDir := filepath.Join(b.dir, "logs", "hostuser")
	pod.LogDirectory = logDir
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("c", img, "sh", "-c",
		"mkdir /suid && cp /bin/busybox /suid/busybox && chmod 4755 /suid/busybox && "+
			"echo shm-secret > /dev/shm/secret && echo logged && sleep 1000"))
	execOut(t, b, id, "sh", "-c", "while [ ! -e /dev/shm/secret ]; do sleep 0.05; done")

	rootfs := filepath.Join(b.State, "containers", id, "rootfs")
	suid := filepath.Join(rootfs, "suid", "busybox")
	shm := filepath.Join(b.State, "pods", podID, "shm", "secret")
	logFile := filepath.Join(logDir, "c.log")
	// Root sees each of them: the paths are right, so a refusal below means something.
	for _, p := range []string{suid, shm, logFile} {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatalf("as root: %v", err)
		}
		if p == suid && st.Mode()&os.ModeSetuid == 0 {
			t.Fatalf("%s is not setuid: %v", p, st.Mode())
		}
	}
	if out, err := exec.Command(suid, "id", "-u").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "0" {
		t.Fatalf("as root, %s id -u: %q %v", suid, out, err)
	}

	for _, dir := range []string{b.Root, b.State, filepath.Join(b.State, "containers"), filepath.Join(b.State, "pods"),
		filepath.Join(b.Root, "containers"), rootfs, filepath.Dir(logFile), filepath.Join(b.dir, "logs")} {
		out, err := asNobody(t, "/bin/busybox", "ls", dir)
		if err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("nobody listed %s: %v %q", dir, err, out)
		}
	}
	for _, file := range []string{suid, shm, logFile, filepath.Join(b.Root, "meta.db"),
		filepath.Join(b.State, "containers", id, "config.json")} {
		if out, err := asNobody(t, "/bin/busybox", "cat", file); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("nobody read %s: %v %q", file, err, out)
		}
		if out, err := asNobody(t, "/bin/busybox", "sh", "-c", "echo x >> "+file); err == nil || !strings.Contains(out, "Permission denied") {
			t.Errorf("nobody wrote %s: %v %q", file, err, out)
		}
	}
	// Through a shell: setpriv itself still holds root's capabilities when
	// it execs, the shell it starts holds none, as a real login would.
	if out, err := asNobody(t, "/bin/busybox", "sh", "-c", `exec "$0" id -u`, suid); err == nil || !strings.Contains(out, "Permission denied") {
		t.Errorf("nobody executed the setuid file %s: %v %q", suid, err, out)
	}
	// What berth made itself is no more open than it must be.
	for path, want := range map[string]os.FileMode{
		b.Root: 0o700, b.State: 0o711, filepath.Join(b.State, "containers"): 0o711, filepath.Join(b.State, "pods"): 0o711,
		filepath.Join(b.State, "containers", id): 0o700,
		filepath.Join(b.Root, "containers", id):  0o700, filepath.Join(b.State, "pods", podID): 0o700,
		filepath.Dir(logFile): 0o700,
	} {
		if st, err := os.Stat(path); err != nil || st.Mode().Perm() != want {
			t.Errorf("%s: mode %v %v, want %v", path, st.Mode().Perm(), err, want)
		}
	}
	// Non-root users inside a container still read its root.
	user := ctrConfig("user", img, "ls", "/")
	user.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1000}
	uid := runContainer(t, b, podID, pod, user)
	if st := waitExited(t, b, uid, 10*time.Second); st.ExitCode != 0 {
		t.Errorf("uid 1000 in a container cannot list /: exit %d, %v", st.ExitCode, logLines(t, logPathOf(pod, user)))
	}
}

// TestExistingInstallIsTightened (root): dirs an older berth made 0711
// are made 0700 when berthd starts, but for the three a pod with its own
// user namespace must pass through (state, its containers and pods), which
// are 0711 whatever they were.
func TestExistingInstallIsTightened(t *testing.T) {
	b := startBerthd(t, "")
	b.Stop()
	want := map[string]os.FileMode{
		b.Root: 0o700, filepath.Join(b.Root, "containers"): 0o700,
		b.State: 0o711, filepath.Join(b.State, "containers"): 0o711, filepath.Join(b.State, "pods"): 0o711,
	}
	for d, mode := range want {
		was := os.FileMode(0o711)
		if mode == 0o711 {
			was = 0o755
		}
		if err := os.MkdirAll(d, was); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(d, was); err != nil {
			t.Fatal(err)
		}
	}
	b.Restart()
	for d, mode := range want {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != mode {
			t.Errorf("%s: %v %v, want %v", d, st.Mode().Perm(), err, mode)
		}
	}
}
