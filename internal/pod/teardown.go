package pod

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// The one teardown of a pod, in three parts that follow its life: what a
// stopped pod gives back, what a removed pod leaves on the host, and its
// files. Each part works from the sandbox's record (or, after a crash, its
// journal), does nothing for what was never made or is already gone, and
// goes on past a failure to undo the rest. RunPodSandbox's failure,
// StopPodSandbox, RemovePodSandbox and start-up recovery all use them.

// releaseRuntime ends the infra process and gives back /dev/shm, the
// network (CNI DEL: IPs, veths, rules) and the pinned namespaces.
func (m *Manager) releaseRuntime(ctx context.Context, s *Sandbox) error {
	var errs []error
	keep := func(part string, err error) {
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", part, err))
		}
	}
	keep("infra process", m.stopInfra(ctx, s)) // through the shim: before it goes
	keep("shm", unmountShm(s.Shm))
	if s.Network != nil && m.opts.Network != nil {
		keep("network", m.opts.Network.Teardown(ctx, s.NetworkPod(), s.Network))
	}
	keep("namespaces", unpinNamespaces(map[string]string{"net": s.NetNS, "ipc": s.IPCNS, "uts": s.UTSNS, "user": s.UserNS}))
	return errors.Join(errs...)
}

// releaseHost stops the pod's shim and removes the cgroup berth made.
func (m *Manager) releaseHost(s *Sandbox) error {
	m.shims.forget(s.ID)
	stopShim(m.Shim(s))
	if s.OwnsCgroup {
		if err := removeCgroup(s.Cgroup); err != nil {
			return fmt.Errorf("cgroup: %w", err)
		}
	}
	return nil
}

// removePodFiles removes the pod's directory and its shim's socket.
func (m *Manager) removePodFiles(s *Sandbox) error {
	os.Remove(m.shimSocket(s.ID))
	if err := os.RemoveAll(s.Dir); err != nil {
		return fmt.Errorf("pod dir: %w", err)
	}
	return nil
}

// teardownAll undoes everything of a pod that has no record (a failed or
// crash-cut RunPodSandbox).
func (m *Manager) teardownAll(ctx context.Context, s *Sandbox) error {
	return errors.Join(m.releaseRuntime(ctx, s), m.releaseHost(s), m.removePodFiles(s))
}

// fromJournal fills in where a pod read from its journal keeps what it
// may have made before the journal could say (paths are fixed by its dir).
func fromJournal(s *Sandbox) *Sandbox {
	c := s.clone()
	ns := filepath.Join(c.Dir, "ns")
	c.NetNS, c.IPCNS, c.UTSNS = filepath.Join(ns, "net"), filepath.Join(ns, "ipc"), filepath.Join(ns, "uts")
	c.UserNS = filepath.Join(ns, "user")
	c.Shm = filepath.Join(c.Dir, "shm")
	return c
}
