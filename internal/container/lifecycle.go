package container

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/crashpoint"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
	"github.com/berth-runtime/berth/internal/store"
)

// killWait bounds the wait for a SIGKILLed container to be reaped.
const killWait = 10 * time.Second

// Start starts a created container. A failed start leaves the container
// exited with reason StartError, as the kubelet expects.
func (m *Manager) Start(ctx context.Context, id string) error {
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	// The pod's hold before the container's lock: a pod stop takes them
	// in that order too.
	_, release, err := m.opts.Pods.Hold(c.PodID)
	if err != nil {
		return err
	}
	defer release()
	unlock := m.locks.Lock(c.ID)
	defer unlock()
	if c, err = m.Get(c.ID); err != nil {
		return err
	}
	if c.State != StateCreated {
		return errdefs.FailedPrecondition("container %s is %s, not created", c.ID, c.State)
	}
	client, err := m.shimOf(c)
	if err != nil {
		return err
	}
	defer m.startGate(c.ID)()
	start, restoring := client.Start, c.RestoreFrom != ""
	if restoring {
		start = func(ctx context.Context, _ string) (*wire.State, error) {
			return nil, m.restoreProcesses(ctx, client, c)
		}
	}
	st, err := start(ctx, c.ID)
	if err != nil {
		m.update(c.ID, func(c *Container) {
			c.State, c.Reason, c.Message, c.FinishedAt, c.ExitCode = StateExited, ReasonStartError, err.Error(), time.Now().UTC(), 128
		})
		return fmt.Errorf("start container %s: %w", c.ID, err)
	}
	crashpoint.Reached("container-start:runtime")
	startedAt := time.Now().UTC()
	if st == nil { // a restore, or a shim before protocol 5
		st, _ = client.State(ctx, c.ID)
	}
	err = m.update(c.ID, func(c *Container) {
		if c.State == StateCreated {
			c.State = StateRunning
		}
		if c.RestoreFrom != "" {
			os.RemoveAll(filepath.Dir(c.RestoreFrom)) // CRIU's images are in the processes now
			c.RestoreFrom = ""
		}
		c.StartedAt = startedAt
		if st != nil {
			c.Pid = st.Pid
			if !st.StartedAt.IsZero() {
				c.StartedAt = st.StartedAt
			}
		}
	})
	if err == nil {
		m.publish(EventStarted, c)
	}
	if restoring {
		go m.watch(c.ID) // from now the shim has it
	}
	return err
}

// Stop sends the stop signal, waits up to timeout, then kills. Stopping a
// container that is not running, or is gone, succeeds (the CRI asks for
// idempotence).
func (m *Manager) Stop(ctx context.Context, id string, timeout time.Duration) error {
	return m.ifExists(id, func(c *Container) error { return m.stop(ctx, c, timeout) })
}

// ifExists runs fn on the container, holding its lock; an unknown
// container is fine (Stop and Remove are idempotent).
func (m *Manager) ifExists(id string, fn func(*Container) error) error {
	c, err := m.Get(id)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	unlock := m.locks.Lock(c.ID)
	defer unlock()
	return fn(c)
}

func (m *Manager) stop(ctx context.Context, c *Container, timeout time.Duration) error {
	if c.State == StateExited {
		return nil
	}
	m.mu.Lock()
	m.stopRequests[c.ID] = true // recorded with the exit
	m.mu.Unlock()
	client, err := m.shimOf(c)
	if err != nil {
		return err
	}
	exited := m.exitedChan(c.ID)
	if c.State == StateRunning && timeout > 0 {
		if err := client.Kill(ctx, c.ID, stopSignal(c.StopSignal)); err != nil && !errors.Is(err, shim.ErrShimGone) {
			return err
		}
		select {
		case <-exited:
			return nil
		case <-time.After(timeout):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if err := client.Kill(ctx, c.ID, unix.SIGKILL); err != nil && !errors.Is(err, shim.ErrShimGone) {
		return err
	}
	if c.State == StateCreated {
		return nil // never started: its process waits in the runtime; Remove deletes it
	}
	select {
	case <-exited:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("container %s did not exit after SIGKILL", c.ID)
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Remove deletes a container in any state, killing it if it runs.
// Removing an unknown container succeeds.
func (m *Manager) Remove(ctx context.Context, id string) error {
	return m.ifExists(id, func(c *Container) error { return m.remove(ctx, c) })
}

func (m *Manager) remove(ctx context.Context, c *Container) error {
	if client, err := m.shimOf(c); err == nil {
		_, err := client.Delete(ctx, c.ID)
		switch {
		case errors.Is(err, shim.ErrShimGone):
			// Nobody holds the container: delete what the runtime may still have.
			if rt, rerr := m.runtime(c.Handler); rerr == nil {
				if err := rt.ForceDelete(c.ID); err != nil {
					return err
				}
			}
		case err != nil && !errdefs.Is(err, errdefs.ErrNotFound):
			return fmt.Errorf("delete container %s: %w", c.ID, err)
		}
	}
	crashpoint.Reached("container-remove:shim")
	if err := removeFiles(c.Bundle, c.DataDir); err != nil {
		return err
	}
	m.mu.Lock()
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Containers, c.ID) }); err != nil {
		m.mu.Unlock()
		return fmt.Errorf("remove container record %s: %w", c.ID, err)
	}
	m.reg.Delete(c.ID) // and its name
	delete(m.exited, c.ID)
	delete(m.logLoss, c.ID)
	delete(m.stopRequests, c.ID)
	m.mu.Unlock()
	m.opts.Images.Release(c.Layers)
	m.publish(EventDeleted, c)
	return nil
}

// removeFiles unmounts a container's rootfs and removes its bundle and
// writable layer; any of them may be gone already.
func removeFiles(bundle, dataDir string) error {
	if err := unstageIDMappedMounts(bundle); err != nil {
		return err
	}
	if err := unmountImageVolumes(bundle); err != nil {
		return err
	}
	if err := unmountRootfs(filepath.Join(bundle, "rootfs")); err != nil {
		return err
	}
	if err := os.RemoveAll(bundle); err != nil {
		return err
	}
	return os.RemoveAll(dataDir)
}

// StopAll kills every container of a pod at once (StopPodSandbox).
func (m *Manager) StopAll(ctx context.Context, podID string) error {
	return m.eachInPod(podID, func(c *Container) error { return m.stop(ctx, c, 0) })
}

// RemoveAll removes every container of a pod (RemovePodSandbox).
func (m *Manager) RemoveAll(ctx context.Context, podID string) error {
	return m.eachInPod(podID, func(c *Container) error { return m.remove(ctx, c) })
}

func (m *Manager) eachInPod(podID string, fn func(*Container) error) error {
	var errs []error
	for _, id := range m.inPod(podID) {
		unlock := m.locks.Lock(id)
		c, err := m.Get(id)
		if err == nil {
			err = fn(c)
		}
		unlock()
		if err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) shimOf(c *Container) (Shim, error) {
	p, err := m.opts.Pods.Get(c.PodID)
	if err != nil {
		return nil, err
	}
	return m.opts.Pods.Shim(p), nil
}

// stopSignal parses an image's StopSignal ("SIGQUIT", "QUIT", "3").
func stopSignal(s string) syscall.Signal {
	if s == "" {
		return unix.SIGTERM
	}
	if sig := unix.SignalNum(s); sig != 0 {
		return sig
	}
	if sig := unix.SignalNum("SIG" + s); sig != 0 {
		return sig
	}
	var n int
	if _, err := fmt.Sscanf(s, "%d", &n); err == nil && n > 0 && n < 65 {
		return syscall.Signal(n)
	}
	return unix.SIGTERM
}

// startGate holds back the recording of an exit until Start has recorded
// the start (a short-lived container may exit first), so that STARTED is
// always reported before STOPPED. The returned function opens the gate.
func (m *Manager) startGate(id string) func() {
	gate := make(chan struct{})
	m.mu.Lock()
	if m.starting == nil {
		m.starting = map[string]chan struct{}{}
	}
	m.starting[id] = gate
	m.mu.Unlock()
	return func() {
		m.mu.Lock()
		delete(m.starting, id)
		m.mu.Unlock()
		close(gate)
	}
}

// waitStart returns once no Start of id is in progress.
func (m *Manager) waitStart(id string) {
	m.mu.RLock()
	gate := m.starting[id]
	m.mu.RUnlock()
	if gate != nil {
		<-gate
	}
}
