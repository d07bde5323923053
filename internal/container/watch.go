package container

import (
	"context"
	"errors"
	"log/slog"

	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// watch waits for the container's exit through its shim and records it.
func (m *Manager) watch(id string) {
	c, err := m.Get(id)
	if err != nil {
		return
	}
	p, err := m.opts.Pods.Get(c.PodID)
	if err != nil {
		return
	}
	client := m.opts.Pods.Shim(p)
	st, err := client.Wait(context.Background(), id)
	switch {
	case err == nil:
		m.recordExit(id, st)
	case errors.Is(err, shim.ErrShimGone):
		// The shim died; the container's processes may still run without
		// it. (The pod manager notices the death too and turns the pod
		// not ready.)
		// No container lock: a stop holding it waits for this very exit.
		if c, err := m.Get(id); err == nil && c.State != StateExited {
			m.killOrphan(c, pod.ShimDiedMessage)
		}
	default:
		slog.Warn("wait for container", "id", id, "err", err)
	}
}

// recordExit marks the container exited with what the shim saw.
func (m *Manager) recordExit(id string, st *wire.State) {
	m.waitStart(id)
	if st.LogLost != nil {
		m.noteLogLoss(id, *st.LogLost)
	}
	changed := false
	m.mu.Lock()
	stopRequested := m.stopRequests[id]
	delete(m.stopRequests, id)
	m.mu.Unlock()
	err := m.update(id, func(c *Container) {
		if c.State == StateExited {
			return
		}
		changed = true
		c.State, c.StopRequested = StateExited, stopRequested
		c.ExitCode = st.ExitCode
		c.FinishedAt = st.ExitedAt
		if c.FinishedAt.Before(c.StartedAt) {
			c.FinishedAt = c.StartedAt // clocks of berthd and shim readings may interleave
		}
		if c.Reason == "" {
			c.Reason = exitReason(st.ExitCode, st.OOMKilled)
		}
		if st.Message != "" {
			c.Reason, c.Message = ReasonUnknown, st.Message
		}
	})
	if err != nil {
		slog.Debug("record exit", "id", id, "err", err)
	}
	if c, gerr := m.Get(id); changed && err == nil && gerr == nil {
		m.publish(EventStopped, c)
	}
	m.mu.Lock()
	if ch, ok := m.exited[id]; ok {
		select {
		case <-ch:
		default:
			close(ch)
		}
	}
	m.mu.Unlock()
}

// exitedChan is closed once the container has exited.
func (m *Manager) exitedChan(id string) <-chan struct{} {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if ch, ok := m.exited[id]; ok {
		return ch
	}
	closed := make(chan struct{})
	close(closed)
	return closed
}
