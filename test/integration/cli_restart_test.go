package integration

import (
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCLIStartAgainKeepsTheWritableLayer (root): `berth start` of an
// exited container runs it again as docker does: same ID and name, the
// files it wrote, its log appended to; its stopped `berth run` pod is set
// up again (an IP again) and stopped again when it exits; start -a shows
// only the new run's output and returns its exit code; restart stops a
// running container and starts it again with its files.
func TestCLIStartAgainKeepsTheWritableLayer(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	mustCLI(t, b, "pull", "busybox")
	count := "echo run >> /runs; wc -l < /runs; exit $(($(wc -l < /runs) + 2))"
	out, code := cliExit(t, b, "run", "--name", "again", "--log-dir", logDir, "busybox", "sh", "-c", count)
	if code != 3 || strings.TrimSpace(out) != "1" {
		t.Fatalf("first run: exit %d, output %q", code, out)
	}
	id := strings.TrimSpace(mustCLI(t, b, "ps", "-a", "-q", "--no-trunc", "-f", "name=again"))
	podState := func() (runtime.PodSandboxState, string) {
		t.Helper()
		pods, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
		if err != nil || len(pods.Items) != 1 {
			t.Fatalf("want the run pod alone, have %v (%v)", pods, err)
		}
		st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: pods.Items[0].Id})
		if err != nil {
			t.Fatal(err)
		}
		return st.Status.State, st.Status.GetNetwork().GetIp()
	}
	if state, _ := podState(); state != runtime.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("the run pod is %s after its container exited", state)
	}

	out, code = cliExit(t, b, "start", "-a", "again")
	if code != 4 || strings.TrimSpace(out) != "2" {
		t.Fatalf("start -a of the exited container: exit %d, output %q (want 2: its file kept, only the new output)", code, out)
	}
	if got := strings.TrimSpace(mustCLI(t, b, "ps", "-a", "-q", "--no-trunc", "-f", "name=again")); got != id {
		t.Fatalf("the container is %q after start, was %q", got, id)
	}
	if state, _ := podState(); state != runtime.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("the run pod is %s after the started container exited again", state)
	}

	// Detached: the pod is ready with an address while it runs.
	mustCLI(t, b, "rm", "again")
	mustCLI(t, b, "run", "-d", "--name", "server", "--log-dir", logDir, "busybox", "sh", "-c",
		"date +%s%N >> /starts; wc -l < /starts; exec sleep 1000")
	waitUntil(t, 10*time.Second, "server's first line", func() bool { return strings.Contains(mustCLI(t, b, "logs", "server"), "1") })
	ctrPid := func() int {
		t.Helper()
		id := strings.TrimSpace(mustCLI(t, b, "ps", "-q", "--no-trunc", "-f", "name=server"))
		st, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
		if err != nil {
			t.Fatal(err)
		}
		var info struct{ Pid int }
		json.Unmarshal([]byte(st.Info["info"]), &info)
		return info.Pid
	}
	pid1 := ctrPid()
	mustCLI(t, b, "restart", "-t", "1", "server")
	waitUntil(t, 10*time.Second, "server's second line", func() bool { return strings.Contains(mustCLI(t, b, "logs", "server"), "2") })
	if logs := mustCLI(t, b, "logs", "server"); logs != "1\n2\n" {
		t.Fatalf("logs after restart: %q (want both runs, appended)", logs)
	}
	if pid2 := ctrPid(); pid2 == pid1 || pid2 == 0 {
		t.Fatalf("restart kept the process: pid %d then %d", pid1, pid2)
	}
	state, ip := podState()
	if state != runtime.PodSandboxState_SANDBOX_READY || ip == "" {
		t.Fatalf("after restart the pod is %s with address %q", state, ip)
	}
	mustCLI(t, b, "stop", "-t", "1", "server")
	if state, _ := podState(); state != runtime.PodSandboxState_SANDBOX_NOTREADY {
		t.Fatalf("stop left the pod %s", state)
	}
	mustCLI(t, b, "start", "server")
	state, ip = podState()
	if state != runtime.PodSandboxState_SANDBOX_READY || ip == "" {
		t.Fatalf("start of the stopped container: pod %s with address %q", state, ip)
	}
	if out := mustCLI(t, b, "exec", "server", "wc", "-l", "/starts"); !strings.HasPrefix(strings.TrimSpace(out), "3") {
		t.Fatalf("after stop and start the container has %q runs recorded, want 3", out)
	}
	if out, code := cliExit(t, b, "start", "server"); code == 0 || !strings.Contains(out, "running") {
		t.Fatalf("start of a running container: exit %d, %q", code, out)
	}
	mustCLI(t, b, "rm", "-f", "server")
}

// TestStartAgainInASharedPIDPod (root): a container that joins its pod's
// PID namespace starts again after the pod was stopped: the pod gets a new
// infra process and the container joins that one's namespace.
func TestStartAgainInASharedPIDPod(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "sharedpid")
	pod.Linux.SecurityContext.NamespaceOptions.Pid = runtime.NamespaceMode_POD
	podID := runPod(t, b, pod)
	cfg := ctrConfig("shared", img, "sh", "-c", "echo started >> /starts; exec sleep 1000")
	cfg.Linux.SecurityContext.NamespaceOptions.Pid = runtime.NamespaceMode_POD
	id := runContainer(t, b, podID, pod, cfg)
	mustCLI(t, b, "stopp", podID)
	if st := ctrStatus(t, b, id); st.State != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("after stopp the container is %s", st.State)
	}
	mustCLI(t, b, "start", id)
	if st := ctrStatus(t, b, id); st.State != runtime.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("after start the container is %s: %s", st.State, st.Message)
	}
	// PID 1 of the container's namespace is the pod's (new) infra process.
	out := mustCLI(t, b, "exec", id, "cat", "/proc/1/cmdline", "/starts")
	if !strings.Contains(out, "pause") || strings.Count(out, "started") != 2 {
		t.Fatalf("in the restarted pod: %q (want the pod's pause as PID 1 and both starts in /starts)", out)
	}
	ps, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
	if err != nil || ps.Status.State != runtime.PodSandboxState_SANDBOX_READY || ps.Status.GetNetwork().GetIp() == "" {
		t.Fatalf("restarted pod: %v %v", ps, err)
	}
}

// TestCLICreateAsDocker (root): docker's form of create (IMAGE COMMAND,
// run's flags) makes the container without starting it; start -a runs it;
// with --rm it goes, pod included, once it exited.
func TestCLICreateAsDocker(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	out := mustCLI(t, b, "create", "--name", "made", "--log-dir", logDir, "-e", "X=42", "busybox", "sh", "-c", "echo $X; exit 5")
	id := strings.TrimSpace(out[strings.LastIndex(strings.TrimSpace(out), "\n")+1:])
	if !regexpMatch(`^[0-9a-f]{64}$`, id) {
		t.Fatalf("create printed %q, want the container's ID last", out)
	}
	if ps := mustCLI(t, b, "ps", "-a", "-f", "name=made", "--format", "{{.Status}}"); !strings.HasPrefix(ps, "Created") {
		t.Fatalf("created container shows %q", ps)
	}
	// The list verbs take docker's -f filters and --format templates.
	if out := mustCLI(t, b, "pods", "-f", "state=ready", "-f", "name=made", "--format", "{{.Name}} {{.State}}"); out != "made READY\n" {
		t.Fatalf("pods -f state=ready --format: %q", out)
	}
	if out := mustCLI(t, b, "pods", "-f", "state=notready", "-q"); out != "" {
		t.Fatalf("pods -f state=notready: %q", out)
	}
	if out := mustCLI(t, b, "images", "-f", "reference=busybox", "--format", "{{.Repository}}:{{.Tag}}"); !strings.HasSuffix(out, "busybox:latest\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("images -f reference=busybox --format: %q", out)
	}
	if out, code := cliExit(t, b, "images", "-f", "dangling=maybe"); code != 125 || !strings.Contains(out, "dangling is true or false") {
		t.Fatalf("images -f dangling=maybe: exit %d %q", code, out)
	}
	if out, code := cliExit(t, b, "start", "-a", "made"); code != 5 || out != "42\n" {
		t.Fatalf("start -a of the created container: exit %d, %q", code, out)
	}
	mustCLI(t, b, "rm", "made")

	mustCLI(t, b, "create", "--rm", "--name", "gone", "--log-dir", logDir, "busybox", "true")
	mustCLI(t, b, "start", "gone")
	waitUntil(t, 10*time.Second, "the --rm container and its pod to go", func() bool {
		return mustCLI(t, b, "ps", "-a", "-q") == "" && mustCLI(t, b, "pods", "-q") == ""
	})
	if entries, _ := os.ReadDir(logDir); len(entries) != 0 {
		t.Fatalf("log dir keeps %d entries after the --rm container went", len(entries))
	}
}

// TestCLIRunRestartPolicy (root): run --restart has berthd start the
// container again when it exits, as docker does: on-failure:N at most N
// times and only after a failure, always until it is stopped on request;
// a pod of the kubelet's is never restarted behind its back.
func TestCLIRunRestartPolicy(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, mirrorConfig(ti))
	logDir := t.TempDir()
	mustCLI(t, b, "pull", "busybox")
	restarts := func(name string) (runtime.ContainerState, int) {
		t.Helper()
		id := strings.TrimSpace(mustCLI(t, b, "ps", "-a", "-q", "--no-trunc", "-f", "name="+name))
		st, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
		if err != nil {
			t.Fatal(err)
		}
		var info struct{ RestartCount int }
		json.Unmarshal([]byte(st.Info["info"]), &info)
		return st.Status.State, info.RestartCount
	}
	if out, code := cliExit(t, b, "run", "--rm", "--restart", "always", "busybox", "true"); code != 125 || !strings.Contains(out, "conflict") {
		t.Fatalf("--rm with --restart: exit %d, %q", code, out)
	}
	if out, code := cliExit(t, b, "run", "--restart", "sometimes", "busybox", "true"); code != 125 {
		t.Fatalf("--restart sometimes: exit %d, %q", code, out)
	}

	mustCLI(t, b, "run", "-d", "--name", "flaky", "--log-dir", logDir, "--restart", "on-failure:2", "busybox", "sh", "-c", "echo x >> /n; cat /n | wc -l; exit 1")
	waitUntil(t, 10*time.Second, "flaky's two restarts", func() bool {
		state, n := restarts("flaky")
		return n == 2 && state == runtime.ContainerState_CONTAINER_EXITED
	})
	time.Sleep(1500 * time.Millisecond) // more than the backoff a third restart would wait
	if state, n := restarts("flaky"); n != 2 || state != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("on-failure:2 went on: %s after %d restarts", state, n)
	}
	if logs := mustCLI(t, b, "logs", "flaky"); logs != "1\n2\n3\n" {
		t.Fatalf("flaky's runs logged %q, want three runs sharing their files", logs)
	}
	mustCLI(t, b, "run", "-d", "--name", "fine", "--log-dir", logDir, "--restart", "on-failure", "busybox", "true")
	time.Sleep(time.Second)
	if state, n := restarts("fine"); n != 0 || state != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("on-failure restarted a success: %s after %d restarts", state, n)
	}

	mustCLI(t, b, "run", "-d", "--name", "always", "--log-dir", logDir, "--restart", "always", "busybox", "sh", "-c", "sleep 0.3")
	waitUntil(t, 10*time.Second, "always's second restart", func() bool { _, n := restarts("always"); return n >= 2 })
	mustCLI(t, b, "stop", "-t", "1", "always")
	_, n := restarts("always")
	time.Sleep(1500 * time.Millisecond)
	if state, m := restarts("always"); m != n || state != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("a stopped always container came back: %s, restarts %d then %d", state, n, m)
	}
	for _, name := range []string{"flaky", "fine", "always"} {
		mustCLI(t, b, "rm", name)
	}

	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "kubelets")
	pod.Labels = map[string]string{"io.kubernetes.pod.uid": "x"}
	pod.Annotations = map[string]string{"berth.io/restart-policy": "always"}
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("once", img, "false"))
	waitExited(t, b, id, 10*time.Second)
	time.Sleep(time.Second)
	st, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(st.Info["info"], `"restartCount":0`) || st.Status.State != runtime.ContainerState_CONTAINER_EXITED {
		t.Fatalf("a kubelet pod's container was restarted by berthd: %s %s", st.Status.State, st.Info["info"])
	}
}
