package pod

import (
	"context"
	"fmt"
	"os"
	"time"

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
	if m.containers != nil {
		if err := m.containers.StopAll(ctx, s.ID); err != nil {
			return fmt.Errorf("stop containers of pod %s: %w", s.ID, err)
		}
	}
	if err := m.stopInfra(ctx, s); err != nil {
		return err
	}
	if err := unmountShm(s.Shm); err != nil {
		return err
	}
	if s.Network != nil && m.opts.Network != nil {
		if err := m.opts.Network.Teardown(ctx, s.NetworkPod(), s.Network); err != nil {
			return err
		}
	}
	if err := unpinNamespaces(map[string]string{"net": s.NetNS, "ipc": s.IPCNS, "uts": s.UTSNS}); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	cur, ok := m.pods[s.ID]
	if !ok || (cur.State == StateNotReady && cur.Network == nil) {
		return nil
	}
	next := cur.clone()
	next.State, next.Network = StateNotReady, nil
	return m.save(next)
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
	stopShim(m.Shim(s))
	if s.OwnsCgroup {
		if err := removeCgroup(s.Cgroup); err != nil {
			return err
		}
	}
	if err := os.RemoveAll(s.Dir); err != nil {
		return fmt.Errorf("remove pod dir: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Sandboxes, s.ID) }); err != nil {
		return fmt.Errorf("remove pod record %s: %w", s.ID, err)
	}
	m.forgetLocked(s)
	return nil
}

func (m *Manager) forget(s *Sandbox) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Sandboxes, s.ID) })
	m.forgetLocked(s)
}

func (m *Manager) forgetLocked(s *Sandbox) {
	delete(m.pods, s.ID)
	key := NameKey(s.Config().GetMetadata())
	if m.names[key] == s.ID {
		delete(m.names, key)
	}
}

// waitGone waits (bounded) until the shim process has exited, so that
// callers can check that nothing is left.
func waitGone(c *shim.Client, pid int) {
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if pid <= 0 || !processAlive(pid) {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	if p, err := os.FindProcess(pid); err == nil && pid > 0 {
		p.Kill()
	}
}
