package container

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

var ctx = context.Background()

func TestStartRunsACreatedContainerOnce(t *testing.T) {
	tm := newTestManager(t)
	c, _ := tm.add(t, "p1", "web", StateCreated)
	events, cancel := tm.Subscribe()
	defer cancel()
	if err := tm.Start(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	got := tm.mustGet(t, c.ID)
	if got.State != StateRunning || got.Pid == 0 || got.StartedAt.IsZero() {
		t.Fatalf("after Start: %+v", got)
	}
	if e := <-events; e.Type != EventStarted || e.ContainerID != c.ID || e.PodID != "p1" {
		t.Fatalf("event %+v", e)
	}
	if err := tm.Start(ctx, c.ID); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("a second Start: %v", err)
	}
}

// The shim answers a start with the container's state (protocol 5), so
// StartContainer asks it once; a shim before that answered with nothing and
// is asked for the state after.
func TestStartTakesThePidFromTheShimsAnswer(t *testing.T) {
	for _, old := range []bool{false, true} {
		tm := newTestManager(t)
		c, s := tm.add(t, "p1", "web", StateCreated)
		s.startWithoutState = old
		if err := tm.Start(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		want := []string{"start " + c.ID}
		if old {
			want = append(want, "state "+c.ID)
		}
		var got []string
		for _, call := range s.callList() {
			if strings.HasSuffix(call, c.ID) && !strings.HasPrefix(call, "create ") && !strings.HasPrefix(call, "wait ") {
				got = append(got, call)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("shim before protocol 5 %v: calls %q, want %q", old, got, want)
		}
		if p := tm.mustGet(t, c.ID).Pid; p == 0 {
			t.Errorf("shim before protocol 5 %v: no pid recorded", old)
		}
	}
}

func TestFailedStartLeavesTheContainerExitedWithStartError(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateCreated)
	s.startErr = errors.New("exec: no such file")
	if err := tm.Start(ctx, c.ID); err == nil || !strings.Contains(err.Error(), "no such file") {
		t.Fatalf("Start: %v", err)
	}
	got := tm.mustGet(t, c.ID)
	if got.State != StateExited || got.Reason != ReasonStartError || got.ExitCode != 128 || got.FinishedAt.IsZero() {
		t.Fatalf("after a failed start: %+v", got)
	}
}

func TestStartInAStoppedPodIsRefused(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateCreated)
	tm.pods.setState("p1", pod.StateNotReady)
	if err := tm.Start(ctx, c.ID); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("Start in a stopped pod: %v", err)
	}
	if slices.Contains(s.callList(), "start "+c.ID) {
		t.Fatal("the shim was asked to start it")
	}
}

func TestStopSendsTheStopSignalThenKills(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateRunning)
	tm.update(c.ID, func(c *Container) { c.StopSignal = "SIGQUIT" }) // which the process ignores
	start := time.Now()
	if err := tm.Stop(ctx, c.ID, 50*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Fatalf("SIGKILL came after %s, before the grace period", took)
	}
	if want := []syscall.Signal{syscall.SIGQUIT, syscall.SIGKILL}; !slices.Equal(s.signals, want) {
		t.Fatalf("signals %v, want %v", s.signals, want)
	}
	got := tm.waitState(t, c.ID, StateExited)
	if got.ExitCode != 137 || !got.StopRequested || got.Reason != ReasonError {
		t.Fatalf("after Stop: %+v", got)
	}
	if err := tm.Stop(ctx, c.ID, time.Second); err != nil {
		t.Fatalf("stopping an exited container: %v", err)
	}
	if err := tm.Stop(ctx, "unknown", time.Second); err != nil {
		t.Fatalf("stopping an unknown container: %v", err)
	}
}

func TestAnExitOfItsOwnIsNotAStopRequest(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "job", StateRunning)
	events, cancel := tm.Subscribe()
	defer cancel()
	s.exit(c.ID, 0)
	got := tm.waitState(t, c.ID, StateExited)
	if got.ExitCode != 0 || got.Reason != ReasonCompleted || got.StopRequested {
		t.Fatalf("after its own exit: %+v", got)
	}
	if e := <-events; e.Type != EventStopped {
		t.Fatalf("event %+v", e)
	}
	select {
	case <-tm.exitedChan(c.ID):
	case <-time.After(time.Second):
		t.Fatal("exited channel not closed")
	}
}

// writeSpec gives a container's bundle a config.json.
func writeSpec(t *testing.T, c *Container, spec *specs.Spec) {
	t.Helper()
	if err := os.MkdirAll(c.Bundle, 0o700); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(spec)
	if err := os.WriteFile(filepath.Join(c.Bundle, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func mountedForTest(t *testing.T, mounted bool) {
	old := rootfsMounted
	rootfsMounted = func(string) (bool, error) { return mounted, nil }
	t.Cleanup(func() { rootfsMounted = old })
}

func TestRestartRunsAnExitedContainerAgainInItsPod(t *testing.T) {
	tm := newTestManager(t)
	mountedForTest(t, true)
	c, s := tm.add(t, "p1", "web", StateRunning)
	writeSpec(t, c, &specs.Spec{Process: &specs.Process{Args: []string{"sh"}}})
	if err := tm.Stop(ctx, c.ID, 0); err != nil {
		t.Fatal(err)
	}
	tm.waitState(t, c.ID, StateExited)
	tm.pods.setState("p1", pod.StateNotReady) // its pod was stopped with it
	if err := tm.Restart(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tm.pods.restarts, []string{"p1"}) {
		t.Fatalf("pod restarts %v", tm.pods.restarts)
	}
	got := tm.mustGet(t, c.ID)
	if got.State != StateRunning || got.RestartCount != 1 || got.StopRequested || got.ExitCode != 0 || !got.FinishedAt.IsZero() {
		t.Fatalf("after Restart: %+v", got)
	}
	var steps []string // what the restart asked, in order (the exit watch's waits aside)
	for _, call := range s.callList() {
		if !strings.HasPrefix(call, "wait ") && !strings.HasPrefix(call, "state ") {
			steps = append(steps, call)
		}
	}
	calls := strings.Join(steps, ",")
	if !strings.HasSuffix(calls, "delete "+c.ID+",create "+c.ID+",start "+c.ID) {
		t.Fatalf("shim calls %s", calls)
	}
	select {
	case <-tm.exitedChan(c.ID):
		t.Fatal("the exited channel of the restarted container is closed")
	default:
	}
	s.exit(c.ID, 3) // its new run's exit is watched
	if got := tm.waitState(t, c.ID, StateExited); got.ExitCode != 3 || got.StopRequested {
		t.Fatalf("second exit: %+v", got)
	}
}

func TestRestartRefusesWhatCannotRunAgain(t *testing.T) {
	tm := newTestManager(t)
	running, _ := tm.add(t, "p1", "web", StateRunning)
	if err := tm.Restart(ctx, running.ID); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("Restart of a running container: %v", err)
	}
	mountedForTest(t, false)
	exited, s := tm.add(t, "p1", "job", StateExited)
	err := tm.Restart(ctx, exited.ID)
	if !errdefs.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "root filesystem") {
		t.Fatalf("Restart without its rootfs: %v", err)
	}
	if slices.Contains(s.callList(), "create "+exited.ID) {
		t.Fatal("a container without its rootfs was created again")
	}
	if got := tm.mustGet(t, exited.ID); got.State != StateExited || got.RestartCount != 0 {
		t.Fatalf("after a refused restart: %+v", got)
	}
	if err := tm.Restart(ctx, "nope"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Restart of an unknown container: %v", err)
	}
}

func TestRepointPIDNamespace(t *testing.T) {
	c := &Container{Bundle: t.TempDir()}
	shared := &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{
		{Type: specs.NetworkNamespace, Path: "/run/netns/x"}, {Type: specs.PIDNamespace, Path: "/proc/10/ns/pid"}}}}
	writeSpec(t, c, shared)
	if err := repointPIDNamespace(c.Bundle, "/proc/20/ns/pid"); err != nil {
		t.Fatal(err)
	}
	var got specs.Spec
	data, _ := os.ReadFile(filepath.Join(c.Bundle, "config.json"))
	json.Unmarshal(data, &got)
	if got.Linux.Namespaces[1].Path != "/proc/20/ns/pid" || got.Linux.Namespaces[0].Path != "/run/netns/x" {
		t.Fatalf("namespaces after repoint: %+v", got.Linux.Namespaces)
	}
	if err := repointPIDNamespace(c.Bundle, ""); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("a pod without an infra process: %v", err)
	}
	own := &Container{Bundle: t.TempDir()}
	writeSpec(t, own, &specs.Spec{Linux: &specs.Linux{Namespaces: []specs.LinuxNamespace{{Type: specs.PIDNamespace}}}})
	if err := repointPIDNamespace(own.Bundle, ""); err != nil {
		t.Fatalf("a container with its own PID namespace: %v", err)
	}
}

func TestRemoveForgetsTheContainerAndReleasesItsLayers(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateRunning)
	writeSpec(t, c, &specs.Spec{})
	events, cancel := tm.Subscribe()
	defer cancel()
	if err := tm.Remove(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := tm.Get(c.ID); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if n := tm.images.retained["sha256:aaa"]; n != 0 {
		t.Fatalf("layers still retained %d times", n)
	}
	if _, err := os.Stat(c.Bundle); !os.IsNotExist(err) {
		t.Fatalf("bundle left: %v", err)
	}
	if !slices.Contains(s.callList(), "delete "+c.ID) {
		t.Fatalf("the shim was not asked to delete it: %v", s.callList())
	}
	for e := range events {
		if e.Type == EventDeleted {
			break
		}
	}
	if err := tm.Remove(ctx, c.ID); err != nil {
		t.Fatalf("removing it again: %v", err)
	}
	fresh, err := NewManager(tm.opts) // what was recorded
	if err != nil {
		t.Fatal(err)
	}
	if len(fresh.List()) != 0 {
		t.Fatalf("the record outlived Remove: %v", fresh.List())
	}
}

func TestShimDeathKillsAndRecordsWhatItWroteDown(t *testing.T) {
	tm := newTestManager(t)
	a, s := tm.add(t, "p1", "a", StateRunning)
	b, _ := tm.add(t, "p1", "b", StateRunning)
	done, _ := tm.add(t, "p1", "c", StateExited)
	tm.ShimDied(ctx, "p1", "the shim died")
	for _, id := range []string{a.ID, b.ID} {
		got := tm.waitState(t, id, StateExited)
		if got.ExitCode != 255 || got.Message != "the shim died" {
			t.Fatalf("%s after its shim died: %+v", id, got)
		}
	}
	if got := tm.mustGet(t, done.ID); got.Message != "" {
		t.Fatalf("an exited container was touched: %+v", got)
	}
	// An exit the shim recorded before it died is kept.
	c2, _ := tm.add(t, "p2", "d", StateRunning)
	tm.pods.shims["p2"].exitFile = &wire.State{ExitCode: 7, ExitedAt: time.Now().UTC()}
	tm.ShimDied(ctx, "p2", "gone")
	if got := tm.waitState(t, c2.ID, StateExited); got.ExitCode != 7 {
		t.Fatalf("recorded exit lost: %+v", got)
	}
	_ = s
}

func TestRecoverFinishesCallsACrashCutOff(t *testing.T) {
	tm := newTestManager(t)
	started, s := tm.add(t, "p1", "started", StateCreated)
	s.Start(ctx, started.ID) // the runtime started it; the record did not follow
	removed, _ := tm.add(t, "p1", "removed", StateExited)
	tm.pods.add("p2").gone = true
	lost, _ := tm.add(t, "p2", "lost", StateRunning)
	tm.Recover(ctx)
	if got := tm.mustGet(t, started.ID); got.State != StateRunning {
		t.Fatalf("a start cut off is %s", got.State)
	}
	if _, err := tm.Get(removed.ID); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("a container its shim no longer knows was kept: %v", err)
	}
	if got := tm.waitState(t, lost.ID, StateExited); got.ExitCode != 255 || got.Message != lostMessage {
		t.Fatalf("a container whose shim is gone: %+v", got)
	}
}

func TestSignalNeedsARunningContainer(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateRunning)
	if err := tm.Signal(ctx, c.ID, 0); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("signal 0: %v", err)
	}
	if err := tm.Signal(ctx, c.ID, syscall.SIGHUP); err != nil || !slices.Equal(s.signals, []syscall.Signal{syscall.SIGHUP}) {
		t.Fatalf("SIGHUP: %v, shim saw %v", err, s.signals)
	}
	exited, _ := tm.add(t, "p1", "job", StateExited)
	if err := tm.Signal(ctx, exited.ID, syscall.SIGHUP); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("signal to an exited container: %v", err)
	}
}

func TestExecSyncRunsTheContainersProcessWithTheCommand(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateRunning)
	writeSpec(t, c, &specs.Spec{Process: &specs.Process{Args: []string{"httpd"}, Env: []string{"A=1"}, Terminal: true}})
	s.execRes = &wire.ExecResult{Stdout: []byte("hi\n"), ExitCode: 3}
	res, err := tm.ExecSync(ctx, c.ID, []string{"echo", "hi"}, time.Second)
	if err != nil || string(res.Stdout) != "hi\n" || res.ExitCode != 3 {
		t.Fatalf("ExecSync: %+v %v", res, err)
	}
	var p specs.Process
	json.Unmarshal(s.execReq.Process, &p)
	if !slices.Equal(p.Args, []string{"echo", "hi"}) || p.Terminal || !slices.Equal(p.Env, []string{"A=1"}) || s.execReq.Timeout != time.Second {
		t.Fatalf("exec'd process %+v (timeout %s)", p, s.execReq.Timeout)
	}
	s.execRes = &wire.ExecResult{TimedOut: true}
	if _, err := tm.ExecSync(ctx, c.ID, []string{"sleep", "9"}, time.Millisecond); !errdefs.Is(err, errdefs.ErrDeadlineExceeded) {
		t.Fatalf("a timed-out exec: %v", err)
	}
	if _, err := tm.ExecSync(ctx, c.ID, nil, 0); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("an empty command: %v", err)
	}
	exited, _ := tm.add(t, "p1", "job", StateExited)
	if _, err := tm.ExecSync(ctx, exited.ID, []string{"true"}, 0); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("exec in an exited container: %v", err)
	}
}

func TestLogLossIsReadFromTheShim(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateRunning)
	if loss := tm.LogLoss(c); loss.Lines != 0 {
		t.Fatalf("loss %+v", loss)
	}
	s.logLoss = wire.LogLoss{Lines: 5, Bytes: 50}
	if loss := tm.LogLoss(c); loss.Lines != 5 || loss.Bytes != 50 || tm.logLoss[c.ID] != 5 {
		t.Fatalf("loss %+v, noted %d", loss, tm.logLoss[c.ID])
	}
}

func TestUpdateResourcesGoesThroughTheShim(t *testing.T) {
	tm := newTestManager(t)
	c, s := tm.add(t, "p1", "web", StateRunning)
	r := &runtime.LinuxContainerResources{MemoryLimitInBytes: 64 << 20, CpuShares: 512}
	if err := tm.UpdateResources(ctx, c.ID, r); err != nil {
		t.Fatal(err)
	}
	if len(s.updates) != 1 || !strings.Contains(s.updates[0], `"limit":67108864`) || !strings.Contains(s.updates[0], `"shares":512`) {
		t.Fatalf("the shim was sent %v", s.updates)
	}
	if got := tm.mustGet(t, c.ID).Config().GetLinux().GetResources(); got.GetMemoryLimitInBytes() != 64<<20 {
		t.Fatalf("recorded resources %v", got)
	}
	// runc refusing a limit below current use is the caller's mistake.
	s.updateErr = errors.New("runc update: unable to set memory limit to 6291456 (current usage: 9000000)")
	err := tm.UpdateResources(ctx, c.ID, &runtime.LinuxContainerResources{MemoryLimitInBytes: 6 << 20})
	if !errdefs.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "memory_limit_in_bytes") {
		t.Fatalf("a limit below use: %v", err)
	}
	if got := tm.mustGet(t, c.ID).Config().GetLinux().GetResources(); got.GetMemoryLimitInBytes() != 64<<20 {
		t.Fatalf("a refused update was recorded: %v", got)
	}
	exited, _ := tm.add(t, "p1", "job", StateExited)
	if err := tm.UpdateResources(ctx, exited.ID, r); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("update of an exited container: %v", err)
	}
}
