package container

import (
	"context"
	"syscall"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Signal sends sig to a running container's first process, as `docker
// kill -s` does (the CRI only stops containers). A signal the process does
// not handle may end it; its exit is recorded as any other.
func (m *Manager) Signal(ctx context.Context, id string, sig syscall.Signal) error {
	if sig <= 0 || sig > 64 {
		return errdefs.InvalidArgument("signal %d is not a signal (1-64)", int(sig))
	}
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if c.State != StateRunning {
		return errdefs.FailedPrecondition("container %s is %s, not running", c.ID, c.State)
	}
	client, err := m.shimOf(c)
	if err != nil {
		return err
	}
	return client.Kill(ctx, c.ID, sig)
}
