package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/sys/mountinfo"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// Restart runs an exited container again, as `docker start` does: the
// same ID, bundle, writable layer and log (appended to), in its pod, which
// is set up again first if it was stopped. The CRI has no such call (the
// kubelet makes a new container); berth's CLI uses it. The container's
// exit fields are cleared and StartedAt is the new start.
func (m *Manager) Restart(ctx context.Context, id string) error {
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if c.State != StateExited {
		return errdefs.FailedPrecondition("container %s is %s: only an exited container starts again", c.ID, c.State)
	}
	if _, err := m.opts.Pods.Restart(ctx, c.PodID); err != nil {
		return err
	}
	if err := m.recreate(ctx, c.ID); err != nil {
		return err
	}
	return m.Start(ctx, c.ID)
}

// recreate gives an exited container a new runtime instance from its
// bundle, leaving it created.
func (m *Manager) recreate(ctx context.Context, id string) error {
	p, release, err := m.opts.Pods.Hold(m.podOf(id))
	if err != nil {
		return err
	}
	defer release()
	unlock := m.locks.Lock(id)
	defer unlock()
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if c.State != StateExited {
		return errdefs.FailedPrecondition("container %s is %s: only an exited container starts again", c.ID, c.State)
	}
	rt, err := m.runtime(c.Handler)
	if err != nil {
		return err
	}
	if mounted, err := rootfsMounted(c.Rootfs()); err != nil || !mounted {
		return errdefs.FailedPrecondition("container %s lost its root filesystem mount (host reboot?): remove it and create a new one", c.ID)
	}
	client := m.opts.Pods.Shim(p)
	if _, err := client.Delete(ctx, c.ID); err != nil && !errdefs.Is(err, errdefs.ErrNotFound) {
		return fmt.Errorf("delete the exited instance of %s: %w", c.ID, err)
	}
	if err := rt.ForceDelete(c.ID); err != nil { // left by a shim that died
		return err
	}
	if err := repointPIDNamespace(c.Bundle, p.PIDNamespace()); err != nil {
		return err
	}
	cfg := c.Config()
	if _, err := client.Create(ctx, c.ID, &wire.CreateRequest{
		Bundle: c.Bundle, Runtime: rt.Path, RuntimeRoot: rt.Root, LogPath: c.LogPath,
		Terminal: cfg.GetTty(), Stdin: cfg.GetStdin(), StdinOnce: cfg.GetStdinOnce(), CgroupPath: c.Cgroup,
	}); err != nil {
		return fmt.Errorf("create container %s again: %w", c.ID, explainRuntimeError(err))
	}
	err = m.update(c.ID, func(c *Container) {
		c.State, c.Pid, c.ExitCode, c.Reason, c.Message = StateCreated, 0, 0, "", ""
		c.StartedAt, c.FinishedAt = time.Time{}, time.Time{}
		c.StopRequested = false
		c.RestartCount++
	})
	if err != nil {
		client.Delete(context.WithoutCancel(ctx), c.ID)
		return err
	}
	m.mu.Lock()
	m.exited[c.ID] = make(chan struct{})
	m.mu.Unlock()
	go m.watch(c.ID)
	return nil
}

// podOf is the pod of a container, or "" (Hold then says NotFound).
func (m *Manager) podOf(id string) string {
	if c, err := m.Get(id); err == nil {
		return c.PodID
	}
	return ""
}

// repointPIDNamespace points a bundle that joins its pod's PID namespace
// at the pod's current infra process (a restarted pod has a new one).
func repointPIDNamespace(bundle, podPIDNS string) error {
	path := filepath.Join(bundle, "config.json")
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	var spec specs.Spec
	if err := json.Unmarshal(data, &spec); err != nil {
		return fmt.Errorf("read spec: %w", err)
	}
	if spec.Linux == nil {
		return nil
	}
	for i, ns := range spec.Linux.Namespaces {
		if ns.Type != specs.PIDNamespace || ns.Path == "" || ns.Path == podPIDNS {
			continue
		}
		if podPIDNS == "" {
			return errdefs.FailedPrecondition("the container joins its pod's PID namespace, which the pod no longer has")
		}
		spec.Linux.Namespaces[i].Path = podPIDNS
		if data, err = json.Marshal(&spec); err != nil {
			return err
		}
		return os.WriteFile(path, data, 0o600)
	}
	return nil
}

// rootfsMounted tells whether a container's rootfs is still mounted (unit
// tests, which mount nothing, replace it).
var rootfsMounted = mountinfo.Mounted
