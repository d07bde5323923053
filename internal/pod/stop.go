package pod

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/berth-runtime/berth/internal/crashpoint"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/store"
)

// Stop kills the pod's containers and releases its namespaces and
// /dev/shm. Stopping a stopped or unknown pod succeeds (the CRI asks for
// idempotence).
func (m *Manager) Stop(ctx context.Context, id string) error {
	s, err := m.Get(id)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	unlock := m.locks.Lock(s.ID)
	defer unlock()
	mark(s, markerStopping)
	if m.containers != nil {
		if err := m.containers.StopAll(ctx, s.ID); err != nil {
			return fmt.Errorf("stop containers of pod %s: %w", s.ID, err)
		}
	}
	crashpoint.Reached("pod-stop:containers")
	if err := m.releaseRuntime(ctx, s); err != nil {
		return err
	}
	crashpoint.Reached("pod-stop:network")
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.reg.Peek(s.ID)
	if ok && (cur.State != StateNotReady || cur.Network != nil) {
		next := cur.clone()
		next.networkReleased()
		next.State = StateNotReady
		if err := m.save(next); err != nil {
			return err
		}
	}
	unmark(s, markerStopping)
	return nil
}

// Remove stops the pod if needed, removes its containers, its shim, its
// cgroup (if berth made it), its files and its record. Removing an unknown
// pod succeeds.
func (m *Manager) Remove(ctx context.Context, id string) error {
	s, err := m.Get(id)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	mark(s, markerRemoving)
	if err := m.Stop(ctx, s.ID); err != nil {
		return err
	}
	unlock := m.locks.Lock(s.ID)
	defer unlock()
	if m.containers != nil {
		if err := m.containers.RemoveAll(ctx, s.ID); err != nil {
			return fmt.Errorf("remove containers of pod %s: %w", s.ID, err)
		}
	}
	crashpoint.Reached("pod-remove:containers")
	if err := m.releaseHost(s); err != nil {
		return err
	}
	// The record goes before the directory: a crash in between leaves a
	// directory without a record, which Recover discards.
	m.mu.Lock()
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Sandboxes, s.ID) }); err != nil {
		m.mu.Unlock()
		return fmt.Errorf("remove pod record %s: %w", s.ID, err)
	}
	m.forgetLocked(s)
	m.mu.Unlock()
	crashpoint.Reached("pod-remove:record")
	return m.removePodFiles(s)
}

func (m *Manager) forget(s *Sandbox) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Sandboxes, s.ID) })
	m.forgetLocked(s)
}

func (m *Manager) forgetLocked(s *Sandbox) {
	m.reg.Delete(s.ID) // and its name
	m.shimProtocols.Delete(s.ID)
}

// waitGone waits (bounded) until the shim process has exited, so that
// callers can check that nothing is left, and kills it if it hangs. A pid
// that is not this shim's (the pid file outlived a reboot) is left alone.
func waitGone(c *shim.Client, pid int) {
	if pid <= 0 || !isShim(pid, c.Socket) {
		return
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if !processAlive(pid) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p, err := os.FindProcess(pid); err == nil && isShim(pid, c.Socket) {
		p.Kill()
	}
}
