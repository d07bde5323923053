package integration

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestContainerEchoesToCRILog(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "echo")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("echo", img, "sh", "-c", "echo hello; echo world >&2; printf partial")
	id := runContainer(t, b, podID, pod, cfg)
	st := waitExited(t, b, id, 10*time.Second)
	if st.ExitCode != 0 || st.Reason != "Completed" {
		t.Fatalf("exit %d reason %q", st.ExitCode, st.Reason)
	}
	lines := logLines(t, logPathOf(pod, cfg))
	got := map[[3]string]bool{}
	for _, l := range lines {
		got[l] = true
	}
	for _, want := range [][3]string{{"stdout", "F", "hello"}, {"stderr", "F", "world"}, {"stdout", "P", "partial"}} { // no newline at the end: partial, so the kubelet adds none
		if !got[want] {
			t.Errorf("log lacks %v; has %v", want, lines)
		}
	}
	if len(lines) != 3 {
		t.Errorf("log has %d lines, want 3: %v", len(lines), lines)
	}
	if st.LogPath != logPathOf(pod, cfg) || st.StartedAt == 0 || st.FinishedAt < st.StartedAt {
		t.Errorf("status %+v", st)
	}
}

func TestContainerExitCodeAndStop(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "exits")
	podID := runPod(t, b, pod)

	failing := runContainer(t, b, podID, pod, ctrConfig("fail", img, "sh", "-c", "exit 3"))
	if st := waitExited(t, b, failing, 10*time.Second); st.ExitCode != 3 || st.Reason != "Error" {
		t.Fatalf("exit 3: got %d %q", st.ExitCode, st.Reason)
	}

	// PID 1 gets no default signal actions: a well-behaved container traps TERM.
	sleeper := runContainer(t, b, podID, pod, ctrConfig("sleeper", img, "sh", "-c", "trap 'exit 0' TERM; sleep 1000 & wait"))
	if st := ctrStatus(t, b, sleeper); st.State != runtime.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("sleeper state %v", st.State)
	}
	time.Sleep(200 * time.Millisecond) // let the trap be installed
	start := time.Now()
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: sleeper, Timeout: 10}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("a sleep that honours SIGTERM took %s to stop", took)
	}
	if st := ctrStatus(t, b, sleeper); st.State != runtime.ContainerState_CONTAINER_EXITED || st.ExitCode != 0 || st.Reason != "Completed" {
		t.Fatalf("stopped sleeper: %v exit %d", st.State, st.ExitCode)
	}

	stubborn := runContainer(t, b, podID, pod, ctrConfig("stubborn", img, "sh", "-c", "trap '' TERM; while true; do sleep 1; done"))
	time.Sleep(200 * time.Millisecond) // let the trap be installed
	start = time.Now()
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: stubborn, Timeout: 2}); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 2*time.Second || took > 6*time.Second {
		t.Errorf("a container ignoring SIGTERM stopped after %s, want about the 2 s timeout", took)
	}
	if st := ctrStatus(t, b, stubborn); st.ExitCode != 137 {
		t.Fatalf("stubborn exit %d, want 137 (SIGKILL)", st.ExitCode)
	}
	// Stopping again is fine; the listing filters by state and pod.
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: stubborn, Timeout: 2}); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	list, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{
		PodSandboxId: podID, State: &runtime.ContainerStateValue{State: runtime.ContainerState_CONTAINER_EXITED}}})
	if err != nil || len(list.Containers) != 3 {
		t.Fatalf("exited containers: %v %v", list, err)
	}
}

func TestExecSync(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "exec")
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("sleeper", img, "sleep", "1000"))
	resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", "echo out; echo err >&2; exit 7"}, Timeout: 10})
	if err != nil {
		t.Fatal(err)
	}
	if string(resp.Stdout) != "out\n" || string(resp.Stderr) != "err\n" || resp.ExitCode != 7 {
		t.Fatalf("exec: %q %q %d", resp.Stdout, resp.Stderr, resp.ExitCode)
	}
	start := time.Now()
	_, err = b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"sleep", "4242"}, Timeout: 1})
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("timed-out exec: %v after %s", err, time.Since(start))
	}
	// The timed-out process is gone.
	ps, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", "ps | grep -c '[s]leep 4242' || true"}, Timeout: 10})
	if err != nil || string(ps.Stdout) != "0\n" {
		t.Fatalf("exec process outlived its timeout: %q %v", ps.GetStdout(), err)
	}
	hn, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"hostname"}})
	if err != nil || string(hn.Stdout) != "exec\n" {
		t.Fatalf("hostname %q %v", hn.GetStdout(), err)
	}
	big, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", "head -c 20000000 /dev/zero"}, Timeout: 30})
	if err != nil || len(big.Stdout) != 16<<20 {
		t.Fatalf("output cap: %d bytes, %v", len(big.GetStdout()), err)
	}
	_ = reflect.DeepEqual
}

func TestTTYContainerLogs(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "tty")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("tty", img, "sh", "-c", "tty; echo on a terminal")
	cfg.Tty = true
	id := runContainer(t, b, podID, pod, cfg)
	if st := waitExited(t, b, id, 10*time.Second); st.ExitCode != 0 {
		t.Fatalf("tty container exit %d", st.ExitCode)
	}
	lines := logLines(t, logPathOf(pod, cfg))
	if len(lines) != 2 || lines[0][2] != "/dev/pts/0" || lines[1][2] != "on a terminal" || lines[0][0] != "stdout" {
		t.Fatalf("tty log %v", lines)
	}
}

// TestExecSyncCallerGone: an ExecSync without a timeout whose caller gives
// up (the kubelet's deadline, or berthd dying) does not leave its process
// running in the container.
func TestExecSyncCallerGone(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "execgone")
	id := runContainer(t, b, runPod(t, b, pod), pod, ctrConfig("c", img, "sleep", "1000"))
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	_, err := b.RT.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"sleep", "4242"}})
	if status.Code(err) != codes.DeadlineExceeded {
		t.Fatalf("exec past the caller's deadline: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(processesMentioning("sleep 4242")) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the exec'd process outlived its caller: %v", processesMentioning("sleep 4242"))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// And the container still execs.
	if out := execOut(t, b, id, "echo", "ok"); strings.TrimSpace(out) != "ok" {
		t.Fatalf("exec after: %q", out)
	}
}
