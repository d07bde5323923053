package container

import (
	"context"
	"fmt"
	"sync"
	"syscall"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/handlerprobe"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/keylock"
	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/ocispec"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/registry"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
	"github.com/berth-runtime/berth/internal/store"
)

// Pods is what containers need of the pod manager.
type Pods interface {
	Get(id string) (*pod.Sandbox, error)
	// Shim is the client of the pod's berth-shim.
	Shim(s *pod.Sandbox) Shim
	// Hold keeps a ready pod from being stopped until release.
	Hold(id string) (s *pod.Sandbox, release func(), err error)
	// Restart sets a stopped pod up again (a ready one is left as is).
	Restart(ctx context.Context, id string) (*pod.Sandbox, error)
}

// Shim is what containers need of their pod's berth-shim (*shim.Client).
type Shim interface {
	Create(ctx context.Context, id string, req *wire.CreateRequest) (*wire.State, error)
	// Restore creates the container running, from a checkpoint.
	Restore(ctx context.Context, id string, req *wire.CreateRequest) (*wire.State, error)
	// Start starts a created container and answers with its state (nil
	// from shims before protocol 5).
	Start(ctx context.Context, id string) (*wire.State, error)
	Kill(ctx context.Context, id string, sig syscall.Signal) error
	Delete(ctx context.Context, id string) (*wire.State, error)
	State(ctx context.Context, id string) (*wire.State, error)
	// Wait returns once the container exited, with how.
	Wait(ctx context.Context, id string) (*wire.State, error)
	Exec(ctx context.Context, id string, req *wire.ExecRequest) (*wire.ExecResult, error)
	Stream(ctx context.Context, op, id string, req *wire.StreamRequest, sio shim.StreamIO) (int32, error)
	ReopenLog(ctx context.Context, id string) error
	// Update gives the container new resources through its runtime.
	Update(ctx context.Context, id string, resources []byte) error
	// ReadExitFile and ReadLogLoss read what the shim wrote down, also
	// once it is gone.
	ReadExitFile(id string) (*wire.State, error)
	ReadLogLoss(id string) wire.LogLoss
}

// PodManager is the pod manager as containers use it.
type PodManager struct{ *pod.Manager }

// Shim is the pod's shim client.
func (p PodManager) Shim(s *pod.Sandbox) Shim { return p.Manager.Shim(s) }

var (
	_ Pods = PodManager{}
	_ Shim = (*shim.Client)(nil)
)

// Images is what containers need of the image service.
type Images interface {
	Get(spec string) (*image.Record, error)
	Config(r *image.Record) ([]byte, error)
	LayerDirs(r *image.Record) []string
	Retain(keys []digest.Digest)
	Release(keys []digest.Digest)
}

// Options configures the container manager.
type Options struct {
	StateDir string // <state>/containers/<id>: bundles
	RootDir  string // <root>/containers/<id>: writable layers
	DB       *store.DB
	Pods     Pods
	Images   Images
	Runtimes map[string]ociruntime.Runtime
	// MinOOMScoreAdj is the lowest oom_score_adj the host lets berth set.
	MinOOMScoreAdj int
	// Hugetlb decides whether hugepage limits reach the runtime.
	Hugetlb ocispec.Hugetlb
	// Criu is the criu binary runc checkpoints and restores with ("":
	// criu in $PATH).
	Criu string
	// HandlerReports says what each handler can do here (nil: assume all).
	HandlerReports HandlerReports
	// FailAfter, a test hook (BERTH_TEST_FAIL_AFTER), fails Create right
	// after the step it names, to prove every step is undone.
	FailAfter string
}

// HandlerReports gives each runtime handler's probe report.
type HandlerReports interface {
	Report(name string) (handlerprobe.Report, bool)
}

// Manager runs containers. Reads come from memory; every change is
// written to the store first.
type Manager struct {
	opts Options
	db   *store.DB

	mu       sync.RWMutex
	reg      *registry.Registry[*Container] // by ID and NameKey
	exited   map[string]chan struct{}
	starting map[string]chan struct{} // closed when a Start is done: exits wait for it
	logLoss  map[string]uint64        // log lines lost, as last reported (warned once per increase)
	// stopRequests are containers being stopped: their exit is recorded
	// as asked for (Container.StopRequested).
	stopRequests map[string]bool
	locks        keylock.Map
	events       eventHub
}

// NewManager loads the recorded containers.
func NewManager(o Options) (*Manager, error) {
	m := &Manager{opts: o, db: o.DB, reg: registry.New[*Container]("container"), exited: map[string]chan struct{}{},
		logLoss: map[string]uint64{}, stopRequests: map[string]bool{}}
	err := store.LoadAll(o.DB, store.Containers, func(_ string, c *Container) {
		c.Config() // decoded once here: the copies List hands out share it
		m.reg.Put(c)
		ch := make(chan struct{})
		if c.State == StateExited {
			close(ch)
		}
		m.exited[c.ID] = ch
		if p, err := o.Pods.Get(c.PodID); err == nil {
			m.reg.Reserve(NameKey(c.Config().GetMetadata(), p.Config().GetMetadata()), c.ID)
		}
		o.Images.Retain(c.Layers)
	})
	return m, err
}

// Get returns a container by full ID or unique ID prefix.
func (m *Manager) Get(id string) (*Container, error) { return m.reg.Get(id) }

// Generation grows with every change of a recorded container: what was
// listed at one generation is current while it stays the same.
func (m *Manager) Generation() uint64 { return m.reg.Generation() }

// List returns every container, newest first.
func (m *Manager) List() []*Container { return m.reg.List() }

// inPod lists the IDs of a pod's containers.
func (m *Manager) inPod(podID string) []string {
	var ids []string
	m.reg.Each(func(c *Container) {
		if c.PodID == podID {
			ids = append(ids, c.ID)
		}
	})
	return ids
}

// update applies fn to the container's record and persists it; nothing
// changes if persisting fails. A removed container is left alone.
func (m *Manager) update(id string, fn func(c *Container)) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.reg.Peek(id)
	if !ok {
		return errdefs.NotFound("container %q not found", id)
	}
	next := cur.clone()
	fn(next)
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(store.Containers, id, next) }); err != nil {
		return fmt.Errorf("record container %s: %w", id, err)
	}
	m.reg.Put(next)
	return nil
}

func (m *Manager) runtime(handler string) (ociruntime.Runtime, error) {
	r, ok := m.opts.Runtimes[handler]
	if !ok {
		return ociruntime.Runtime{}, errdefs.FailedPrecondition("runtime handler %q is not configured", handler)
	}
	return r, nil
}

// Hugetlb says whether hugepage limits reach the runtime here, and why.
func (m *Manager) Hugetlb() ocispec.Hugetlb { return m.opts.Hugetlb }
