package container

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// shimCallTimeout bounds each shim call recovery makes before serving.
const shimCallTimeout = 10 * time.Second

// podIDFile, in a container's bundle, names its pod: a creation cut off
// before its record was written is undone through that pod's shim.
const podIDFile = "pod-id"

// DiscardOrphans undoes CreateContainer calls that a crash cut off: a
// bundle or writable layer without a record was never finished (the
// record is the last step). The pod's shim forgets the container (killing
// what the runtime created), the rootfs is unmounted and both directories
// go. It runs at start-up, before anything is served.
func (m *Manager) DiscardOrphans(ctx context.Context) {
	orphans := map[string]bool{}
	for _, dir := range []string{m.opts.StateDir, m.opts.RootDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if _, err := m.Get(e.Name()); errdefs.Is(err, errdefs.ErrNotFound) && len(e.Name()) == 64 {
				orphans[e.Name()] = true
			}
		}
	}
	for id := range orphans {
		slog.Info("undoing a container creation cut off by a crash", "id", id)
		bundle := filepath.Join(m.opts.StateDir, id)
		if podID, err := os.ReadFile(filepath.Join(bundle, podIDFile)); err == nil {
			if p, err := m.opts.Pods.Get(string(podID)); err == nil {
				// The shim may first finish a create in progress (up to a minute).
				dctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
				_, err := m.opts.Pods.Shim(p).Delete(dctx, id)
				cancel()
				if err != nil && !errdefs.Is(err, errdefs.ErrNotFound) && !errors.Is(err, shim.ErrShimGone) {
					slog.Warn("container recovery: shim delete", "id", id, "err", err)
				}
			}
		}
		logIf("files", id, removeFiles(bundle, filepath.Join(m.opts.RootDir, id)))
	}
}

// Recover reconnects to the shims of containers that were created or
// running when berthd last stopped, and settles what a crash left
// between two states:
//   - the shim is gone: the container is reported exited, with the exit
//     the shim recorded if it did;
//   - the shim no longer knows the container: a RemoveContainer was cut
//     off after the shim's part, and is finished;
//   - the shim runs a container recorded as created: a StartContainer was
//     cut off after the runtime's start (or restore), and the start is
//     recorded;
//   - a container created from a checkpoint is not in the shim until its
//     start: it stays created.
//
// Every other running or created container's exit is watched again.
func (m *Manager) Recover(ctx context.Context) {
	for _, c := range m.List() {
		client, err := m.shimOf(c)
		if err != nil {
			continue
		}
		// A shim that accepts but never answers must not keep berthd from
		// serving: after the timeout the container is watched as usual.
		sctx, cancel := context.WithTimeout(ctx, shimCallTimeout)
		st, err := client.State(sctx, c.ID)
		cancel()
		switch {
		case errors.Is(err, shim.ErrShimGone):
			if c.State != StateExited {
				m.killOrphan(c, lostMessage)
			}
			continue
		case errdefs.Is(err, errdefs.ErrNotFound) && c.State == StateCreated && c.RestoreFrom != "":
			continue // created from a checkpoint: the shim gets it at its start
		case errdefs.Is(err, errdefs.ErrNotFound):
			slog.Info("finishing a container removal cut off by a crash", "id", c.ID)
			logIf("remove", c.ID, m.Remove(ctx, c.ID))
			continue
		case c.State == StateExited:
			continue
		case err == nil && c.State == StateCreated && st.Status != wire.StatusCreated:
			logIf("record start", c.ID, m.update(c.ID, func(c *Container) {
				c.State, c.Pid, c.StartedAt, c.RestoreFrom = StateRunning, st.Pid, st.StartedAt, ""
			}))
		}
		go m.watch(c.ID)
	}
}

// lostMessage is the exit message of a container whose shim was gone
// when berthd started, unless the shim recorded the exit first.
const lostMessage = "berth-shim is gone (killed, or the host rebooted); the container's exit was not recorded and its processes were killed"

// SweepRuntimeState deletes OCI runtime state of IDs berth does not know
// (known: containers and pod infra processes), left by a crash between
// the runtime's create and berth's record, or by a dead shim.
func (m *Manager) SweepRuntimeState(known func(id string) bool) {
	for name, rt := range m.opts.Runtimes {
		entries, _ := os.ReadDir(rt.Root)
		for _, e := range entries {
			id := e.Name()
			if !e.IsDir() || known(id) {
				continue
			}
			if _, err := m.Get(id); err == nil {
				continue
			}
			slog.Info("deleting runtime state of an unknown container", "handler", name, "id", id)
			logIf("runtime state", id, rt.ForceDelete(id))
		}
	}
}

func logIf(what, id string, err error) {
	if err != nil {
		slog.Warn("container recovery", "part", what, "id", id, "err", err)
	}
}
