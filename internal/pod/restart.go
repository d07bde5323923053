package pod

import (
	"context"
	"fmt"
	"os"

	"github.com/berth-runtime/berth/internal/crashpoint"
	"github.com/berth-runtime/berth/internal/errdefs"
)

// Restart sets a stopped pod up again under its ID, config and cgroup:
// new namespaces, network (its addresses may change), files, /dev/shm,
// the infra process, and a new shim if the old one is gone. The CRI never
// restarts a pod; this serves `berth start` of an exited container whose
// pod was stopped, as docker gives a restarted container a new network.
// A ready pod is returned as it is. If a step fails, what the restart made
// is released and the pod stays stopped; a crash in between is finished
// as a stop at start-up (the stopping marker stays while it runs; each
// step is recorded once done, the network as soon as CNI chose it).
func (m *Manager) Restart(ctx context.Context, id string) (*Sandbox, error) {
	s, err := m.Get(id)
	if err != nil {
		return nil, err
	}
	unlock := m.locks.Lock(s.ID)
	defer unlock()
	if s, err = m.Get(s.ID); err != nil {
		return nil, err
	}
	if s.State == StateReady {
		return s, nil
	}
	if marked(s, markerRemoving) {
		return nil, errdefs.FailedPrecondition("pod sandbox %s is being removed", s.ID)
	}
	if _, err := os.Stat(s.Dir); err != nil {
		return nil, errdefs.FailedPrecondition("pod sandbox %s lost its runtime state (host reboot?): remove it and run a new one", s.ID)
	}
	if err := m.handlerReady(s.Handler); err != nil {
		return nil, err
	}
	mark(s, markerStopping)
	next := s.clone()
	next.InfraPid, next.Network = 0, nil
	steps := []struct {
		name string
		do   func() error
	}{
		{"shim", func() error { return m.ensureShim(next) }},
		{"namespaces", func() error { return m.pinPodNamespaces(next) }},
		{"network", func() error { return m.setupNetwork(ctx, next, m.recordNow) }},
		{"files", func() error { return writePodFiles(next.Dir, next.Hostname, next.Config(), next.HostNetwork()) }},
		{"shm", func() error { return m.mountPodShm(next) }},
		{"infra", func() error { return m.startInfra(ctx, next) }},
	}
	// Whatever fails, what the restart made goes and the pod stays stopped.
	undo := func(err error) (*Sandbox, error) {
		logIf("undo a failed restart", s.ID, m.releaseRuntime(context.WithoutCancel(ctx), next))
		next.State = StateNotReady
		next.networkReleased()
		logIf("record", s.ID, m.recordNow(next))
		unmark(s, markerStopping)
		return nil, err
	}
	for _, step := range steps {
		if err := step.do(); err != nil {
			return undo(fmt.Errorf("restart pod %s (%s): %w", s.ID, step.name, err))
		}
		// What the step made is recorded before the next: a crash from
		// here on is finished as a stop, which works from the record.
		if err := m.recordNow(next); err != nil {
			return undo(err)
		}
		crashpoint.Reached("pod-restart:" + step.name)
	}
	next.State, next.LastIPs = StateReady, nil
	if err := m.recordNow(next); err != nil {
		return undo(err)
	}
	unmark(s, markerStopping)
	m.watchShim(next)
	return next.clone(), nil
}

// handlerReady fails when the pod's handler cannot create containers on
// this host now.
func (m *Manager) handlerReady(name string) error {
	if m.opts.HandlerReady == nil {
		return nil
	}
	return m.opts.HandlerReady(name)
}

// ensureShim starts the pod's shim again if it is gone (it died, or was
// killed); a running one is kept with whatever it still holds.
func (m *Manager) ensureShim(s *Sandbox) error {
	if m.Shim(s).Alive() {
		return nil
	}
	os.Remove(m.shimSocket(s.ID))
	return m.startShim(s)
}

// recordNow saves a restarting pod's record as it stands (under m.mu).
func (m *Manager) recordNow(s *Sandbox) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.save(s.clone())
}
