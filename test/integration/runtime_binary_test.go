package integration

import (
	"crypto/sha256"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func fileHash(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	io.Copy(h, f)
	var sum [32]byte
	copy(sum[:], h.Sum(nil))
	return sum
}

// TestContainersCannotOverwriteTheRuntime (root; CVE-2019-5736): a
// container never gets to write the OCI runtime's binary. In a pod that
// shares one PID namespace, a second container that is created but not
// started is runc's init process, waiting on its exec fifo (berth-shim
// starts it through that fifo): the first container sees it for as long
// as it waits, and tries what the attack did, opening the process's exe
// for writing, directly and through an fd held open. Every attempt fails,
// and the runtime's binary on the host is unchanged.
func TestContainersCannotOverwriteTheRuntime(t *testing.T) {
	runc, err := exec.LookPath("runc")
	if err != nil {
		t.Skip("runc is not installed")
	}
	before := fileHash(t, runc)
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "cve")
	pod.Linux.SecurityContext.NamespaceOptions.Pid = runtime.NamespaceMode_POD
	podID := runPod(t, b, pod)
	shared := func(cfg *runtime.ContainerConfig) *runtime.ContainerConfig {
		cfg.Linux.SecurityContext.NamespaceOptions.Pid = runtime.NamespaceMode_POD
		return cfg
	}
	attacker := runContainer(t, b, podID, pod, shared(ctrConfig("attacker", img, "sleep", "1000")))
	victim := createContainer(t, b, podID, pod, shared(ctrConfig("victim", img, "true")))

	// The attack, from inside: find the runtime's processes (named like
	// runc:[2:INIT]) and try to write their executable.
	attack := `found=0
for d in /proc/[0-9]*; do
  name=$(sed -n 's/^Name:[[:space:]]*//p' $d/status 2>/dev/null)
  case "$name" in runc*) ;; *) continue ;; esac
  found=$((found+1))
  echo "found ${d#/proc/} $name"
  if (echo pwned > $d/exe) 2>/dev/null; then echo "WROTE directly"; fi
  (exec 3<$d/exe || exit 0
   echo "opened exe for reading"
   if (echo pwned > /proc/self/fd/3) 2>/dev/null; then echo "WROTE through fd"; fi) 2>/dev/null
done
echo "runtime processes: $found"`
	resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: attacker, Cmd: []string{"sh", "-c", attack}, Timeout: 30})
	if err != nil {
		t.Fatal(err)
	}
	out := string(resp.Stdout) + string(resp.Stderr)
	t.Logf("the attack saw:\n%s", out)
	if !strings.Contains(out, "runc:[2:INIT]") || strings.Contains(out, "runtime processes: 0") {
		t.Fatalf("the waiting runtime process was not visible to the other container, so nothing was tried:\n%s", out)
	}
	if strings.Contains(out, "WROTE") {
		t.Fatalf("a container wrote the runtime's binary:\n%s", out)
	}
	if fileHash(t, runc) != before {
		t.Fatal("the runtime's binary on the host changed")
	}
	// The victim still starts and runs: the runtime is whole.
	startContainer(t, b, victim)
	if st := waitExited(t, b, victim, 10e9); st.ExitCode != 0 {
		t.Fatalf("the created container exited %d after the attack", st.ExitCode)
	}
}
