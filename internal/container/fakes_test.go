package container

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
	"github.com/berth-runtime/berth/internal/store/storetest"
)

// Hand-written fakes of what the container manager uses, so that its
// state machine is tested in milliseconds without root: a pod manager with
// one shim per pod, a shim that plays the container's process, images.

type fakePods struct {
	mu       sync.Mutex
	pods     map[string]*pod.Sandbox
	shims    map[string]*fakeShim
	restarts []string
}

func newFakePods() *fakePods {
	return &fakePods{pods: map[string]*pod.Sandbox{}, shims: map[string]*fakeShim{}}
}

func (f *fakePods) add(id string) *fakeShim {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pods[id] = &pod.Sandbox{ID: id, State: pod.StateReady}
	s := newFakeShim()
	f.shims[id] = s
	return s
}

func (f *fakePods) setState(id string, st pod.State) {
	f.mu.Lock()
	f.pods[id].State = st
	f.mu.Unlock()
}

func (f *fakePods) Get(id string) (*pod.Sandbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.pods[id]
	if !ok {
		return nil, errdefs.NotFound("pod sandbox %q not found", id)
	}
	c := *s
	return &c, nil
}

func (f *fakePods) Shim(s *pod.Sandbox) Shim {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.shims[s.ID]
}

func (f *fakePods) Hold(id string) (*pod.Sandbox, func(), error) {
	s, err := f.Get(id)
	if err != nil {
		return nil, nil, err
	}
	if s.State != pod.StateReady {
		return nil, nil, errdefs.FailedPrecondition("pod sandbox %s is not ready", id)
	}
	return s, func() {}, nil
}

func (f *fakePods) Restart(_ context.Context, id string) (*pod.Sandbox, error) {
	f.mu.Lock()
	f.restarts = append(f.restarts, id)
	f.mu.Unlock()
	f.setState(id, pod.StateReady)
	return f.Get(id)
}

// fakeProcess is a container as the fake shim runs it.
type fakeProcess struct {
	status string
	pid    int
	exited chan struct{}
	exit   *wire.State
}

// fakeShim records what it was asked; a container's process exits when
// exit is called, or on a signal in lethal.
type fakeShim struct {
	mu       sync.Mutex
	procs    map[string]*fakeProcess
	calls    []string
	signals  []syscall.Signal
	lethal   map[syscall.Signal]bool
	startErr error
	// startWithoutState answers Start as shims before protocol 5 did.
	startWithoutState bool
	gone              bool // every call fails with shim.ErrShimGone
	exitFile          *wire.State
	logLoss           wire.LogLoss
	execReq           *wire.ExecRequest
	execRes           *wire.ExecResult
	updates           []string
	updateErr         error
	nextPid           int
}

func newFakeShim() *fakeShim {
	return &fakeShim{procs: map[string]*fakeProcess{}, lethal: map[syscall.Signal]bool{syscall.SIGKILL: true, syscall.SIGTERM: true}, nextPid: 100}
}

func (s *fakeShim) record(call string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, call)
	if s.gone {
		return shim.ErrShimGone
	}
	return nil
}

func (s *fakeShim) proc(id string) (*fakeProcess, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.procs[id]
	if !ok {
		return nil, errdefs.NotFound("container %s not found in shim", id)
	}
	return p, nil
}

// run puts a running process in the shim (a container made before the test).
func (s *fakeShim) run(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextPid++
	s.procs[id] = &fakeProcess{status: wire.StatusRunning, pid: s.nextPid, exited: make(chan struct{})}
}

// exit ends a container's process with code.
func (s *fakeShim) exit(id string, code int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p, ok := s.procs[id]; ok && p.exit == nil {
		p.status = wire.StatusExited
		p.exit = &wire.State{ID: id, Status: wire.StatusExited, ExitCode: code, ExitedAt: time.Now().UTC()}
		close(p.exited)
	}
}

func (s *fakeShim) Create(_ context.Context, id string, req *wire.CreateRequest) (*wire.State, error) {
	if err := s.record("create " + id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.procs[id]; ok {
		return nil, errdefs.AlreadyExists("container %s already exists in shim", id)
	}
	s.nextPid++
	s.procs[id] = &fakeProcess{status: wire.StatusCreated, pid: s.nextPid, exited: make(chan struct{})}
	return &wire.State{ID: id, Status: wire.StatusCreated, Pid: s.nextPid}, nil
}

// Restore puts a running process in the shim, as a restore does.
func (s *fakeShim) Restore(_ context.Context, id string, req *wire.CreateRequest) (*wire.State, error) {
	if err := s.record("restore " + id + " " + req.Restore.ImagePath); err != nil {
		return nil, err
	}
	s.run(id)
	return &wire.State{ID: id, Status: wire.StatusRunning}, nil
}

func (s *fakeShim) Start(_ context.Context, id string) (*wire.State, error) {
	if err := s.record("start " + id); err != nil {
		return nil, err
	}
	if s.startErr != nil {
		return nil, s.startErr
	}
	p, err := s.proc(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p.status = wire.StatusRunning
	if s.startWithoutState { // a shim before protocol 5
		return nil, nil
	}
	return &wire.State{ID: id, Status: p.status, Pid: p.pid, StartedAt: time.Now().UTC()}, nil
}

func (s *fakeShim) Kill(_ context.Context, id string, sig syscall.Signal) error {
	if err := s.record(fmt.Sprintf("kill %s %d", id, sig)); err != nil {
		return err
	}
	s.mu.Lock()
	s.signals = append(s.signals, sig)
	lethal := s.lethal[sig]
	s.mu.Unlock()
	if lethal {
		s.exit(id, 128+int32(sig))
	}
	return nil
}

func (s *fakeShim) Delete(_ context.Context, id string) (*wire.State, error) {
	if err := s.record("delete " + id); err != nil {
		return nil, err
	}
	p, err := s.proc(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	delete(s.procs, id)
	s.mu.Unlock()
	return p.exit, nil
}

func (s *fakeShim) State(_ context.Context, id string) (*wire.State, error) {
	if err := s.record("state " + id); err != nil {
		return nil, err
	}
	p, err := s.proc(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return &wire.State{ID: id, Status: p.status, Pid: p.pid, StartedAt: time.Now().UTC()}, nil
}

func (s *fakeShim) Wait(ctx context.Context, id string) (*wire.State, error) {
	if err := s.record("wait " + id); err != nil {
		return nil, err
	}
	p, err := s.proc(id)
	if err != nil {
		return nil, err
	}
	select {
	case <-p.exited:
		return p.exit, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *fakeShim) Exec(_ context.Context, id string, req *wire.ExecRequest) (*wire.ExecResult, error) {
	if err := s.record("exec " + id); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.execReq = req
	return s.execRes, nil
}

func (s *fakeShim) Stream(_ context.Context, op, id string, _ *wire.StreamRequest, _ shim.StreamIO) (int32, error) {
	return 0, s.record(op + " " + id)
}

func (s *fakeShim) ReopenLog(_ context.Context, id string) error { return s.record("reopen-log " + id) }

func (s *fakeShim) Update(_ context.Context, id string, resources []byte) error {
	if err := s.record("update " + id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.updates = append(s.updates, string(resources))
	return s.updateErr
}

func (s *fakeShim) ReadExitFile(id string) (*wire.State, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.exitFile == nil {
		return nil, errdefs.NotFound("no exit file for %s", id)
	}
	return s.exitFile, nil
}

func (s *fakeShim) ReadLogLoss(string) wire.LogLoss {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.logLoss
}

func (s *fakeShim) callList() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.calls...)
}

type fakeImages struct {
	mu       sync.Mutex
	retained map[digest.Digest]int
}

func (f *fakeImages) Get(spec string) (*image.Record, error) {
	return nil, errdefs.NotFound("image %q not found", spec)
}
func (f *fakeImages) Config(*image.Record) ([]byte, error) { return nil, nil }
func (f *fakeImages) LayerDirs(*image.Record) []string     { return nil }
func (f *fakeImages) Retain(keys []digest.Digest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.retained[k]++
	}
}
func (f *fakeImages) Release(keys []digest.Digest) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, k := range keys {
		f.retained[k]--
	}
}

// testManager is a container manager over the fakes and a real store.
type testManager struct {
	*Manager
	pods   *fakePods
	images *fakeImages
	dir    string
}

func newTestManager(t *testing.T) *testManager {
	t.Helper()
	dir := t.TempDir()
	db := storetest.Open(t, dir)
	pods, images := newFakePods(), &fakeImages{retained: map[digest.Digest]int{}}
	m, err := NewManager(Options{
		StateDir: filepath.Join(dir, "state"), RootDir: filepath.Join(dir, "root"), DB: db, Pods: pods, Images: images,
		Runtimes: map[string]ociruntime.Runtime{"runc": {Path: "/nonexistent/runc", Root: filepath.Join(dir, "runc")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return &testManager{Manager: m, pods: pods, images: images, dir: dir}
}

// add records a container in pod podID (made if new) as if Create had made
// it, in state st; a running one runs in the fake shim, watched.
func (tm *testManager) add(t *testing.T, podID, name string, st State) (*Container, *fakeShim) {
	t.Helper()
	s, ok := tm.pods.shims[podID]
	if !ok {
		s = tm.pods.add(podID)
	}
	id := fmt.Sprintf("%s-%s-%064d", podID, name, len(tm.List()))[:64]
	c := &Container{ID: id, PodID: podID, State: st, CreatedAt: time.Now().UTC(), Handler: "runc",
		Bundle: filepath.Join(tm.dir, "bundles", id), DataDir: filepath.Join(tm.dir, "data", id),
		Layers: []digest.Digest{"sha256:aaa"}}
	tm.images.Retain(c.Layers)
	if _, err := tm.record(context.Background(), &creation{c: c}); err != nil {
		t.Fatal(err)
	}
	switch st {
	case StateCreated:
		s.Create(context.Background(), id, &wire.CreateRequest{})
		go tm.watch(id)
	case StateRunning:
		s.run(id)
		if !s.gone { // a dead shim's containers are for Recover to find
			go tm.watch(id)
		}
	case StateExited:
		tm.mu.Lock()
		close(tm.exited[id])
		tm.mu.Unlock()
	}
	return tm.mustGet(t, id), s
}

func (tm *testManager) mustGet(t *testing.T, id string) *Container {
	t.Helper()
	c, err := tm.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitState waits until the container is in state st.
func (tm *testManager) waitState(t *testing.T, id string, st State) *Container {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := tm.mustGet(t, id)
		if c.State == st {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("container %s is %s, want %s", id, c.State, st)
		}
		time.Sleep(time.Millisecond)
	}
}
