package pod

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/keylock"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/registry"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/store"
)

// Containers is what the pod manager needs of the container manager: to
// stop and remove a pod's containers with it.
type Containers interface {
	StopAll(ctx context.Context, podID string) error
	RemoveAll(ctx context.Context, podID string) error
	// ShimDied kills and records exited the pod's containers after its
	// shim died.
	ShimDied(ctx context.Context, podID, msg string)
}

// Network is what pods need of pod networking (CNI).
type Network interface {
	Setup(ctx context.Context, p network.Pod, chosen func(*network.Attachment) error) (*network.Attachment, error)
	Teardown(ctx context.Context, p network.Pod, a *network.Attachment) error
}

// Options configures the pod manager.
type Options struct {
	// StateDir holds pods' volatile files (<state>/pods/<id>).
	StateDir string
	DB       *store.DB
	// ShimBinary is the berth-shim executable.
	ShimBinary string
	// Handlers are the runtime handler names pods may select; Default is
	// used when a pod names none.
	Handlers       map[string]bool
	DefaultHandler string
	ShmSize        int64
	// Runtimes are the OCI runtimes by handler name (for the infra process).
	Runtimes map[string]ociruntime.Runtime
	// PauseBinary is berth-pause, the infra process of pods that share a
	// PID namespace.
	PauseBinary    string
	MinOOMScoreAdj int
	Network        Network
	// HandlerReady, if set, says why a handler cannot create containers
	// on this host (FailedPrecondition), or nil.
	HandlerReady func(name string) error
	// HandlerUserNamespaces, if set, says why a handler cannot run pods
	// with their own user namespace here.
	HandlerUserNamespaces func(name string) error
	// PauseImage, if set, is the image the infra process runs from, and
	// InfraImage prepares its rootfs; else berth-pause runs from the host.
	PauseImage string
	InfraImage func(ctx context.Context, ref, bundle string) (args []string, undo func(), err error)
	// FailAfter, a test hook (BERTH_TEST_FAIL_AFTER), fails RunPodSandbox
	// right after the step it names, to prove every step is undone.
	FailAfter string
}

// Manager runs pod sandboxes. Reads come from memory; every change is
// written to the store first.
type Manager struct {
	opts       Options
	db         *store.DB
	containers Containers
	shims      *shimWatch

	// mu orders changes: a record is written to the store, then put in
	// the registry, under it.
	mu  sync.Mutex
	reg *registry.Registry[*Sandbox] // by ID and NameKey
	// locks serialise what changes one pod (Stop, Remove, Restart, a
	// shim's death take it exclusively; Hold shares it).
	locks keylock.Map

	// shimProtocols remembers each pod's shim protocol version (ShimProtocol).
	shimProtocols sync.Map
}

// NewManager loads the recorded pods. containers makes the container
// manager, which needs the pod manager as much as the pod manager needs
// it (a pod stops and goes with its containers): both are made here, the
// one link between them set before either is used.
func NewManager(o Options, containers func(*Manager) (Containers, error)) (*Manager, error) {
	m := &Manager{opts: o, db: o.DB, reg: registry.New[*Sandbox]("pod sandbox")}
	err := store.LoadAll(o.DB, store.Sandboxes, func(_ string, s *Sandbox) {
		m.reg.Put(s)
		m.reg.Reserve(NameKey(s.Config().GetMetadata()), s.ID)
	})
	if err != nil {
		return nil, err
	}
	if containers != nil {
		if m.containers, err = containers(m); err != nil {
			return nil, err
		}
	}
	if m.shims, err = newShimWatch(m.shimDied); err != nil {
		return nil, fmt.Errorf("watch shims: %w", err)
	}
	return m, nil
}

// Get returns a pod by full ID or unique ID prefix.
func (m *Manager) Get(id string) (*Sandbox, error) {
	return m.reg.Get(id)
}

// Generation grows with every change of a recorded pod: what was
// listed at one generation is current while it stays the same.
func (m *Manager) Generation() uint64 { return m.reg.Generation() }

// List returns every pod, newest first.
func (m *Manager) List() []*Sandbox { return m.reg.List() }

// Shim returns the client of the pod's berth-shim.
func (m *Manager) Shim(s *Sandbox) *shim.Client {
	return &shim.Client{Dir: s.ShimDir(), Socket: m.shimSocket(s.ID)}
}

// shimSocket is short on purpose: unix socket paths are limited to 108 bytes.
func (m *Manager) shimSocket(id string) string {
	return filepath.Join(m.opts.StateDir, "s", id[:24]+".sock")
}

// Handler returns the handler name a pod runs with.
func (m *Manager) handler(name string) (string, error) {
	if name == "" {
		name = m.opts.DefaultHandler
	}
	if !m.opts.Handlers[name] {
		return "", errdefs.InvalidArgument("unknown runtime handler %q", name)
	}
	if err := m.handlerReady(name); err != nil {
		return "", err
	}
	return name, nil
}

func (m *Manager) podDir(id string) string { return filepath.Join(m.opts.StateDir, "pods", id) }

// save records s (under m.mu).
func (m *Manager) save(s *Sandbox) error {
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(store.Sandboxes, s.ID, s) }); err != nil {
		return fmt.Errorf("record pod %s: %w", s.ID, err)
	}
	m.reg.Put(s)
	return nil
}
