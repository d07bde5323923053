package pod

import (
	"context"
	"log/slog"
	"time"
)

// ShimDiedMessage is the exit message of containers whose shim died.
const ShimDiedMessage = "berth-shim, the pod's monitor, died; the container's processes were killed"

// watchShim starts watching a pod's shim; a shim already gone is handled
// as if it died now.
func (m *Manager) watchShim(s *Sandbox) {
	if !m.addShimWatch(s) {
		go m.shimDied(s.ID)
	}
}

// addShimWatch watches the pod's shim and says whether it runs.
func (m *Manager) addShimWatch(s *Sandbox) bool {
	c := m.Shim(s)
	pid, _ := c.Pid()
	return m.shims.add(s.ID, pid, c.Socket)
}

// shimDied handles a pod whose shim is gone though nobody stopped it: its
// containers' processes are killed through the runtime (nothing else holds
// them now) and reported exited with a message that says why, and the pod
// turns NOTREADY so that the kubelet replaces it. Its network, namespaces
// and files stay until StopPodSandbox and RemovePodSandbox, which work
// without a shim.
func (m *Manager) shimDied(podID string) {
	s, err := m.Get(podID)
	if err != nil || s.State != StateReady {
		return
	}
	unlock := m.locks.Lock(s.ID)
	defer unlock()
	if s, err = m.Get(podID); err != nil || s.State != StateReady || marked(s, markerStopping) || marked(s, markerRemoving) {
		return // stopped or being removed meanwhile
	}
	slog.Warn("berth-shim died: killing the pod's containers, the pod is not ready", "pod", s.ID)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if m.containers != nil {
		m.containers.ShimDied(ctx, s.ID, ShimDiedMessage)
	}
	if s.InfraPid > 0 {
		if rt, ok := m.opts.Runtimes[s.Handler]; ok {
			logIf("infra process", s.ID, rt.ForceDelete(s.ID))
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur, ok := m.reg.Peek(s.ID); ok && cur.State == StateReady {
		next := cur.clone()
		next.State, next.InfraPid = StateNotReady, 0
		logIf("record", s.ID, m.save(next))
	}
}
