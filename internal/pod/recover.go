package pod

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/berth-runtime/berth/internal/shim"
)

// DiscardOrphans undoes RunPodSandbox calls that a crash cut off: a pod
// directory without a record is a pod that was never finished (the record
// is its last step) or whose removal was cut off after its record went.
// What its journal says it made is undone: the shim and anything it runs,
// the infra rootfs, /dev/shm, the network, the pinned namespaces, the
// cgroup. Shim sockets of no pod are shut down and removed too. It runs at
// start-up, before anything is served.
func (m *Manager) DiscardOrphans(ctx context.Context) {
	entries, _ := os.ReadDir(filepath.Join(m.opts.StateDir, "pods"))
	var orphans []string
	for _, e := range entries {
		if !m.reg.Has(e.Name()) && e.IsDir() {
			orphans = append(orphans, e.Name())
		}
	}
	for _, id := range orphans {
		slog.Info("undoing a pod sandbox cut off by a crash", "id", id)
		m.discard(ctx, readJournal(id, m.podDir(id)))
	}
	m.discardStraySockets(ctx)
}

// discard undoes every part a pod cut off by a crash may have, through
// the pod's one teardown, after deleting whatever its shim still runs.
func (m *Manager) discard(ctx context.Context, s *Sandbox) {
	drainShim(ctx, m.Shim(s))
	logIf("teardown", s.ID, m.teardownAll(ctx, fromJournal(s)))
}

// drainShim deletes whatever a shim still runs, so that it can shut down.
func drainShim(ctx context.Context, c *shim.Client) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	states, err := c.List(ctx)
	if err != nil {
		return // not running
	}
	for _, st := range states {
		if _, err := c.Delete(ctx, st.ID); err != nil && !errors.Is(err, shim.ErrShimGone) {
			slog.Warn("delete a process of an abandoned shim", "id", st.ID, "err", err)
		}
	}
}

// discardStraySockets shuts down shims whose socket belongs to no pod.
func (m *Manager) discardStraySockets(ctx context.Context) {
	dir := filepath.Join(m.opts.StateDir, "s")
	entries, _ := os.ReadDir(dir)
	known := map[string]bool{}
	m.reg.Each(func(s *Sandbox) { known[s.ID[:24]] = true })
	for _, e := range entries {
		prefix, ok := strings.CutSuffix(e.Name(), ".sock")
		if !ok || known[prefix] {
			continue
		}
		c := &shim.Client{Socket: filepath.Join(dir, e.Name())}
		drainShim(ctx, c)
		sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c.Shutdown(sctx)
		cancel()
		os.Remove(c.Socket)
	}
}

// MarkLost makes pods whose runtime state is gone (the host rebooted, or
// berth's state dir was wiped) not ready: their namespaces, shim and
// processes no longer exist. Their IPs are released now; the rest is
// cleaned when they are removed, as the kubelet expects. rebooted says the
// boot changed since berthd last ran, which loses every pod even when the
// state dir survived on disk.
func (m *Manager) MarkLost(ctx context.Context, rebooted bool) {
	for _, s := range m.List() {
		if _, err := os.Stat(s.Dir); err == nil && !rebooted {
			continue
		}
		if s.State == StateNotReady && s.Network == nil && s.InfraPid == 0 {
			continue
		}
		slog.Info("pod sandbox lost its runtime state (host reboot?); reporting it not ready", "id", s.ID)
		if rebooted {
			// Mounts and processes died with the boot: forget the files
			// that named them (the network namespace file is no namespace
			// any more) so that teardown and removal find nothing to undo.
			os.RemoveAll(s.Dir)
			if rt, ok := m.opts.Runtimes[s.Handler]; ok {
				logIf("infra runtime state", s.ID, rt.ForceDelete(s.ID))
			}
		}
		if s.Network != nil && m.opts.Network != nil {
			logIf("network", s.ID, m.opts.Network.Teardown(ctx, s.NetworkPod(), s.Network))
		}
		m.mu.Lock()
		if cur, ok := m.reg.Peek(s.ID); ok {
			next := cur.clone()
			next.networkReleased()
			next.State, next.InfraPid = StateNotReady, 0
			logIf("record", s.ID, m.save(next))
		}
		m.mu.Unlock()
	}
}

// FinishInterrupted completes the StopPodSandbox and RemovePodSandbox
// calls that a crash cut off (their markers are still in the pod's
// directory). It needs the containers' exits watched again, so it runs
// after the container manager recovered.
func (m *Manager) FinishInterrupted(ctx context.Context) {
	for _, s := range m.List() {
		var err error
		switch {
		case marked(s, markerRemoving):
			slog.Info("finishing a pod sandbox removal cut off by a crash", "id", s.ID)
			err = m.Remove(ctx, s.ID)
		case marked(s, markerStopping):
			slog.Info("finishing a pod sandbox stop cut off by a crash", "id", s.ID)
			err = m.Stop(ctx, s.ID)
		}
		logIf("finish", s.ID, err)
	}
}

// WatchShims watches the shim of every ready pod; a pod whose shim died
// while berthd was down is handled now, before anything is served.
func (m *Manager) WatchShims() {
	for _, s := range m.List() {
		if s.State != StateReady {
			continue
		}
		if !m.addShimWatch(s) {
			m.shimDied(s.ID)
			continue
		}
		m.noteShimProtocol(s)
	}
}

func logIf(what, id string, err error) {
	if err != nil {
		slog.Warn("pod recovery", "part", what, "id", id, "err", err)
	}
}
