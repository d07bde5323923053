package container

import (
	"context"
	"time"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// ShimDied is told by the pod manager that a pod's shim died: every
// container of the pod that has not exited is killed through its runtime
// (its processes were reparented and still run in their cgroup; nothing
// else holds them now) and recorded exited with msg.
func (m *Manager) ShimDied(_ context.Context, podID, msg string) {
	for _, id := range m.inPod(podID) {
		unlock := m.locks.Lock(id)
		if c, err := m.Get(id); err == nil && c.State != StateExited {
			m.killOrphan(c, msg)
		}
		unlock()
	}
}

// killOrphan kills a container whose shim is gone and records its exit:
// what the shim wrote down before it died, else 255 with msg.
func (m *Manager) killOrphan(c *Container, msg string) {
	if rt, err := m.runtime(c.Handler); err == nil {
		logIf("kill through the runtime", c.ID, rt.ForceDelete(c.ID))
	}
	st := &wire.State{ExitCode: 255, ExitedAt: time.Now().UTC(), Message: msg}
	if client, err := m.shimOf(c); err == nil {
		if rec, err := client.ReadExitFile(c.ID); err == nil {
			st = rec
		}
	}
	m.recordExit(c.ID, st)
}
