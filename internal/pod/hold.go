package pod

import "github.com/berth-runtime/berth/internal/errdefs"

// Hold keeps a ready pod from being stopped, removed or declared dead
// while a container is created or started in it: those take the pod's lock
// exclusively, Hold takes it shared. A stop that waits keeps new holds
// waiting too, and they then find the pod not ready: a create either
// finishes before the stop takes the container list, or fails
// FailedPrecondition. The pod is returned as it is under the hold.
func (m *Manager) Hold(id string) (*Sandbox, func(), error) {
	s, err := m.Get(id)
	if err != nil {
		return nil, nil, err
	}
	release := m.locks.RLock(s.ID)
	if s, err = m.Get(s.ID); err != nil {
		release()
		return nil, nil, err
	}
	if s.State != StateReady {
		release()
		return nil, nil, errdefs.FailedPrecondition("pod sandbox %s is not ready (stopped, stopping or its shim died)", s.ID)
	}
	return s, release, nil
}
