package pod

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/store/storetest"
)

// Hand-written fakes of what the pod manager uses, so that its lifecycle
// is tested without root: the container manager and CNI. The pods are
// recorded as a RunPodSandbox would leave them (that call pins namespaces
// and mounts, which needs root: the integration tests cover it).

type fakeContainers struct {
	mu    sync.Mutex
	calls []string
	err   error
}

func (f *fakeContainers) note(call string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, call)
	return f.err
}
func (f *fakeContainers) StopAll(_ context.Context, id string) error   { return f.note("stop " + id) }
func (f *fakeContainers) RemoveAll(_ context.Context, id string) error { return f.note("remove " + id) }
func (f *fakeContainers) ShimDied(_ context.Context, id, msg string) {
	f.note("shim-died " + id + ": " + msg)
}
func (f *fakeContainers) list() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.calls)
}

type fakeNetwork struct {
	mu        sync.Mutex
	teardowns []string
	ip        int
}

func (f *fakeNetwork) Setup(_ context.Context, p network.Pod, chosen func(*network.Attachment) error) (*network.Attachment, error) {
	f.mu.Lock()
	f.ip++
	a := &network.Attachment{IPs: []string{fmt.Sprintf("10.88.0.%d", f.ip)}}
	f.mu.Unlock()
	if chosen != nil {
		if err := chosen(a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (f *fakeNetwork) Teardown(_ context.Context, p network.Pod, a *network.Attachment) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.teardowns = append(f.teardowns, p.ID+" "+a.IPs[0])
	return nil
}

type testPods struct {
	*Manager
	containers *fakeContainers
	net        *fakeNetwork
	notReady   map[string]string // handler -> why it cannot run here
}

func newTestPods(t *testing.T) *testPods {
	t.Helper()
	dir := t.TempDir()
	db := storetest.Open(t, dir)
	tp := &testPods{containers: &fakeContainers{}, net: &fakeNetwork{}, notReady: map[string]string{}}
	m, err := NewManager(Options{
		StateDir: filepath.Join(dir, "state"), DB: db, Handlers: map[string]bool{"runc": true, "crun": true},
		DefaultHandler: "runc", Network: tp.net,
		HandlerReady: func(name string) error {
			if why, ok := tp.notReady[name]; ok {
				return errdefs.FailedPrecondition("runtime handler %q cannot run here: %s", name, why)
			}
			return nil
		},
	}, func(*Manager) (Containers, error) { return tp.containers, nil })
	if err != nil {
		t.Fatal(err)
	}
	tp.Manager = m
	return tp
}

// add records a ready pod named name with an address, as Run leaves it
// (its cgroup the kubelet's, so that nothing on the host is touched).
func (tp *testPods) add(t *testing.T, id, name string) *Sandbox {
	t.Helper()
	id += strings.Repeat("0", 64-len(id)) // IDs are 64 hex digits; tests name them by prefix
	cfg := &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: name, Namespace: "ns", Uid: "uid-" + name},
		Linux: &runtime.LinuxPodSandboxConfig{CgroupParent: "/kubepods/" + name}}
	data, _ := proto.Marshal(cfg)
	s := &Sandbox{ID: id, State: StateReady, CreatedAt: time.Now().UTC(), ConfigProto: data, Handler: "runc",
		Dir: tp.podDir(id), Cgroup: "/kubepods/" + name, Network: &network.Attachment{IPs: []string{"10.88.0.100"}}}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	tp.reg.Reserve(NameKey(cfg.Metadata), id)
	tp.mu.Lock()
	err := tp.save(s)
	tp.mu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (tp *testPods) mustGet(t *testing.T, id string) *Sandbox {
	t.Helper()
	s, err := tp.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

var ctx = context.Background()

func TestStopReleasesTheNetworkAndKeepsTheAddresses(t *testing.T) {
	tp := newTestPods(t)
	p1 := tp.add(t, "p1", "web")
	if err := tp.Stop(ctx, "p1"); err != nil { // by ID prefix
		t.Fatal(err)
	}
	s := tp.mustGet(t, "p1")
	if s.State != StateNotReady || s.Network != nil || !slices.Equal(s.IPs(), []string{"10.88.0.100"}) {
		t.Fatalf("after Stop: state %s network %v IPs %v", s.State, s.Network, s.IPs())
	}
	if !slices.Equal(tp.containers.list(), []string{"stop " + p1.ID}) {
		t.Fatalf("containers asked %v", tp.containers.list())
	}
	if err := tp.Stop(ctx, "p1"); err != nil {
		t.Fatalf("a second Stop: %v", err)
	}
	if len(tp.net.teardowns) != 1 {
		t.Fatalf("CNI DEL ran %d times: %v", len(tp.net.teardowns), tp.net.teardowns)
	}
	if err := tp.Stop(ctx, "unknown"); err != nil {
		t.Fatalf("Stop of an unknown pod: %v", err)
	}
	if marked(s, markerStopping) {
		t.Fatal("the stopping marker outlived the stop")
	}
	// The record says so too.
	fresh, err := NewManager(tp.opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := fresh.Get("p1"); got.State != StateNotReady || !slices.Equal(got.IPs(), []string{"10.88.0.100"}) {
		t.Fatalf("recorded after Stop: %+v", got)
	}
}

func TestAFailedContainerStopKeepsThePodReady(t *testing.T) {
	tp := newTestPods(t)
	tp.add(t, "p1", "web")
	tp.containers.err = fmt.Errorf("runc is wedged")
	if err := tp.Stop(ctx, "p1"); err == nil {
		t.Fatal("Stop succeeded though its containers did not stop")
	}
	if s := tp.mustGet(t, "p1"); s.State != StateReady || s.Network == nil {
		t.Fatalf("after a failed stop: %s %v", s.State, s.Network)
	}
}

func TestRemoveTakesContainersRecordDirAndName(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web")
	if err := tp.Remove(ctx, "p1"); err != nil {
		t.Fatal(err)
	}
	if _, err := tp.Get("p1"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Get after Remove: %v", err)
	}
	if want := []string{"stop " + s.ID, "remove " + s.ID}; !slices.Equal(tp.containers.list(), want) {
		t.Fatalf("containers asked %v, want %v", tp.containers.list(), want)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatalf("pod dir left: %v", err)
	}
	release, err := tp.reserveName(s.Config().GetMetadata(), "p2")
	if err != nil {
		t.Fatalf("the name is still held: %v", err)
	}
	release()
	if err := tp.Remove(ctx, "p1"); err != nil {
		t.Fatalf("a second Remove: %v", err)
	}
	fresh, _ := NewManager(tp.opts, nil)
	if len(fresh.List()) != 0 {
		t.Fatal("the record outlived Remove")
	}
}

func TestNamesAreReservedOnce(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web")
	if _, err := tp.reserveName(s.Config().GetMetadata(), "p2"); !errdefs.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("a second reservation: %v", err)
	}
}

func TestHoldRefusesAStoppedPod(t *testing.T) {
	tp := newTestPods(t)
	tp.add(t, "p1", "web")
	_, release, err := tp.Hold("p1")
	if err != nil {
		t.Fatal(err)
	}
	stopped := make(chan error)
	go func() { stopped <- tp.Stop(ctx, "p1") }()
	select {
	case <-stopped:
		t.Fatal("Stop went through a hold")
	case <-time.After(50 * time.Millisecond):
	}
	release()
	if err := <-stopped; err != nil {
		t.Fatal(err)
	}
	if _, _, err := tp.Hold("p1"); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("Hold of a stopped pod: %v", err)
	}
	if _, _, err := tp.Hold("nope"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("Hold of an unknown pod: %v", err)
	}
}

func TestRestartRefusesWhatCannotComeBack(t *testing.T) {
	tp := newTestPods(t)
	ready := tp.add(t, "p1", "web")
	if s, err := tp.Restart(ctx, "p1"); err != nil || s.State != StateReady || len(tp.net.teardowns) != 0 {
		t.Fatalf("Restart of a ready pod: %v %v", s, err)
	}
	removing := tp.add(t, "p2", "removing")
	tp.Stop(ctx, "p2")
	mark(removing, markerRemoving)
	if _, err := tp.Restart(ctx, "p2"); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("Restart of a pod being removed: %v", err)
	}
	lost := tp.add(t, "p3", "lost")
	tp.Stop(ctx, "p3")
	os.RemoveAll(lost.Dir)
	if _, err := tp.Restart(ctx, "p3"); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("Restart of a pod that lost its state: %v", err)
	}
	tp.add(t, "p4", "nohandler")
	tp.Stop(ctx, "p4")
	tp.notReady["runc"] = "cgroups in hybrid mode"
	if _, err := tp.Restart(ctx, "p4"); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("Restart with a handler that cannot run: %v", err)
	}
	for _, id := range []string{"p2", "p3", "p4"} {
		if s := tp.mustGet(t, id); s.State != StateNotReady {
			t.Fatalf("%s after a refused restart: %s", id, s.State)
		}
	}
	_ = ready
}

func TestShimDeathMakesThePodNotReady(t *testing.T) {
	tp := newTestPods(t)
	p1 := tp.add(t, "p1", "web")
	stopping := tp.add(t, "p2", "stopping")
	mark(stopping, markerStopping)
	tp.shimDied(p1.ID)
	tp.shimDied(stopping.ID)
	if s := tp.mustGet(t, "p1"); s.State != StateNotReady {
		t.Fatalf("after its shim died: %s", s.State)
	}
	if s := tp.mustGet(t, "p2"); s.State != StateReady {
		t.Fatal("a pod being stopped was handled as dead")
	}
	if want := []string{"shim-died " + p1.ID + ": " + ShimDiedMessage}; !slices.Equal(tp.containers.list(), want) {
		t.Fatalf("containers told %v", tp.containers.list())
	}
	tp.shimDied(p1.ID) // again: nothing more
	if len(tp.containers.list()) != 1 {
		t.Fatalf("a dead pod's shim died twice: %v", tp.containers.list())
	}
}

func TestMarkLostAfterAReboot(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web")
	tp.MarkLost(ctx, false) // same boot, dir there: nothing lost
	if got := tp.mustGet(t, "p1"); got.State != StateReady {
		t.Fatalf("a live pod marked lost: %s", got.State)
	}
	tp.MarkLost(ctx, true)
	got := tp.mustGet(t, "p1")
	if got.State != StateNotReady || got.Network != nil || len(tp.net.teardowns) != 1 {
		t.Fatalf("after a reboot: %s %v, teardowns %v", got.State, got.Network, tp.net.teardowns)
	}
	if _, err := os.Stat(s.Dir); !os.IsNotExist(err) {
		t.Fatal("the dir that named dead mounts was kept")
	}
}

func TestFinishInterruptedCompletesStopsAndRemovals(t *testing.T) {
	tp := newTestPods(t)
	stopping := tp.add(t, "p1", "stopping")
	mark(stopping, markerStopping)
	removing := tp.add(t, "p2", "removing")
	mark(removing, markerRemoving)
	tp.add(t, "p3", "alive")
	tp.FinishInterrupted(ctx)
	if s := tp.mustGet(t, "p1"); s.State != StateNotReady {
		t.Fatalf("a stop cut off: %s", s.State)
	}
	if _, err := tp.Get("p2"); !errdefs.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("a removal cut off: %v", err)
	}
	if s := tp.mustGet(t, "p3"); s.State != StateReady {
		t.Fatalf("an untouched pod: %s", s.State)
	}
}

func TestRunRefusesBadRequestsBeforeMakingAnything(t *testing.T) {
	tp := newTestPods(t)
	good := &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "a", Namespace: "ns", Uid: "u"}}
	tp.notReady["crun"] = "cgroups in hybrid mode not supported"
	cases := []struct {
		cfg     *runtime.PodSandboxConfig
		handler string
		want    error
	}{
		{&runtime.PodSandboxConfig{}, "", errdefs.ErrInvalidArgument}, // no metadata
		{good, "kata", errdefs.ErrInvalidArgument},
		{good, "crun", errdefs.ErrFailedPrecondition},
	}
	for _, c := range cases {
		if _, err := tp.Run(ctx, c.cfg, c.handler); !errdefs.Is(err, c.want) {
			t.Errorf("Run(%v, %q): %v, want %v", c.cfg, c.handler, err, c.want)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(tp.opts.StateDir, "pods"))
	if len(entries) != 0 || len(tp.List()) != 0 {
		t.Fatalf("a refused Run left %d dirs, %d pods", len(entries), len(tp.List()))
	}
}

func TestGetByIDPrefix(t *testing.T) {
	tp := newTestPods(t)
	tp.add(t, "abc1", "a")
	tp.add(t, "abc2", "b")
	if s, err := tp.Get("abc1"); err != nil || !strings.HasPrefix(s.ID, "abc1") {
		t.Fatalf("full ID: %v %v", s, err)
	}
	if _, err := tp.Get("abc"); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("ambiguous prefix: %v", err)
	}
	if ids := []string{tp.List()[0].ID, tp.List()[1].ID}; !strings.HasPrefix(ids[0], "abc2") {
		t.Fatalf("List is not newest first: %v", ids)
	}
}
