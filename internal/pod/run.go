package pod

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/crashpoint"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/idmap"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/registry"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/store"
	"github.com/berth-runtime/berth/internal/validate"
)

// Run creates and starts a pod sandbox. Each step records on the sandbox
// (and in its journal) what it made; if a later step fails, the pod's one
// teardown undoes all of it and nothing of the pod remains.
func (m *Manager) Run(ctx context.Context, cfg *runtime.PodSandboxConfig, handlerName string) (_ *Sandbox, err error) {
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}
	handler, err := m.handler(handlerName)
	if err != nil {
		return nil, err
	}
	if m.opts.HandlerUserNamespaces != nil && idmap.FromCRI(cfg.GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions()) != nil {
		if err := m.opts.HandlerUserNamespaces(handler); err != nil {
			return nil, err
		}
	}
	s := &Sandbox{ID: registry.NewID(), State: StateReady, CreatedAt: time.Now().UTC(), Handler: handler, config: cfg}
	s.ConfigProto, err = proto.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	s.Dir = m.podDir(s.ID)
	s.Hostname = hostname(cfg)
	release, err := m.reserveName(cfg.GetMetadata(), s.ID)
	if errdefs.Is(err, errdefs.ErrAlreadyExists) {
		// The kubelet retries a RunPodSandbox that timed out, with the same
		// config: answer with the sandbox the first call makes or made.
		if same, ok := m.sameRun(ctx, cfg, handler); ok {
			return same, nil
		}
	}
	if err != nil {
		return nil, err
	}
	done, recorded := false, false
	defer func() { // also on a panic: the interceptor recovers it, nothing may stay half made
		if !done {
			if recorded {
				m.forget(s)
			}
			logIf("undo a failed run", s.ID, m.teardownAll(context.WithoutCancel(ctx), s))
			release()
		}
	}()
	steps := []struct {
		name string
		do   func() error
	}{
		{"dir", func() error { return m.makeDir(s) }},
		{"namespaces", func() error { return m.pinPodNamespaces(s) }},
		{"network", func() error { return m.setupNetwork(ctx, s, journal) }},
		{"files", func() error { return writePodFiles(s.Dir, s.Hostname, cfg, s.HostNetwork()) }},
		{"shm", func() error { return m.mountPodShm(s) }},
		{"cgroup", func() error { return m.makeCgroup(s) }},
		{"shim", func() error { return m.startShim(s) }},
		{"infra", func() error { return m.startInfra(ctx, s) }},
		{"record", func() error { err := m.record(s); recorded = err == nil; return err }},
	}
	var timings []any
	for _, step := range steps {
		stepStart := time.Now()
		err := step.do()
		timings = append(timings, step.name, time.Since(stepStart))
		if err != nil {
			return nil, fmt.Errorf("run pod %s (%s): %w", s.ID, step.name, err)
		}
		if step.name == m.opts.FailAfter {
			return nil, fmt.Errorf("injected failure after step %q", step.name)
		}
		crashpoint.Reached("pod:" + step.name)
	}
	done = true
	slog.Debug("pod ran", append([]any{"id", s.ID}, timings...)...)
	m.watchShim(s)
	return s.clone(), nil
}

func validateConfig(cfg *runtime.PodSandboxConfig) error {
	return validate.PodSandbox(cfg)
}

// reserveName claims the pod's name, or says which pod holds it.
func (m *Manager) reserveName(md *runtime.PodSandboxMetadata, id string) (func(), error) {
	return m.reg.Reserve(NameKey(md), id)
}

// retryWait bounds how long a retried RunPodSandbox waits for the first
// call, still in progress, to finish.
const retryWait = 2 * time.Minute

// sameRun returns the sandbox that holds cfg's name if it was made from the
// same config and handler, waiting for a first call still in progress.
func (m *Manager) sameRun(ctx context.Context, cfg *runtime.PodSandboxConfig, handler string) (*Sandbox, bool) {
	key := NameKey(cfg.GetMetadata())
	deadline := time.Now().Add(retryWait)
	for {
		_, reserved, s, recorded := m.reg.Holder(key)
		switch {
		case !reserved:
			return nil, false // the first call failed and let go of the name
		case recorded:
			if s.State == StateReady && s.Handler == handler && proto.Equal(s.Config(), cfg) {
				return s, true
			}
			return nil, false
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (m *Manager) makeDir(s *Sandbox) error {
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return err
	}
	return journal(s)
}

func (m *Manager) pinPodNamespaces(s *Sandbox) error {
	opts := s.Config().GetLinux().GetSecurityContext().GetNamespaceOptions()
	var kinds []nsKind
	if opts.GetNetwork() != runtime.NamespaceMode_NODE {
		kinds = append(kinds, netNS, utsNS)
	}
	if opts.GetIpc() != runtime.NamespaceMode_NODE {
		kinds = append(kinds, ipcNS)
	}
	dir := filepath.Join(s.Dir, "ns")
	var paths map[string]string
	var err error
	if ids := s.IDMappings(); ids != nil {
		paths, err = pinInUserNamespace(dir, kinds, s.Hostname, m.opts.PauseBinary, ids)
	} else {
		paths, err = pinNamespaces(dir, kinds, s.Hostname)
	}
	if err != nil {
		return err
	}
	s.NetNS, s.UTSNS, s.IPCNS, s.UserNS = paths["net"], paths["uts"], paths["ipc"], paths["user"]
	return nil
}

// setupNetwork attaches the pod to its network. keep records the chosen
// attachment before CNI ADD runs (the journal for a new pod, the record
// for a restarted one), so that a crash in the middle is undone.
func (m *Manager) setupNetwork(ctx context.Context, s *Sandbox, keep func(*Sandbox) error) error {
	if s.HostNetwork() || m.opts.Network == nil {
		return nil
	}
	a, err := m.opts.Network.Setup(ctx, s.NetworkPod(), func(chosen *network.Attachment) error {
		s.Network = chosen
		return keep(s)
	})
	if err != nil {
		s.Network = nil // Setup ran DEL for what it added
		return err
	}
	s.Network = a
	return nil
}

func (m *Manager) mountPodShm(s *Sandbox) error {
	if s.Config().GetLinux().GetSecurityContext().GetNamespaceOptions().GetIpc() == runtime.NamespaceMode_NODE {
		return nil // host IPC: containers use the host's /dev/shm
	}
	path := filepath.Join(s.Dir, "shm")
	if err := mountShm(path, m.opts.ShmSize); err != nil {
		return err
	}
	s.Shm = path
	return nil
}

func (m *Manager) makeCgroup(s *Sandbox) error {
	if p := s.Config().GetLinux().GetCgroupParent(); p != "" {
		s.Cgroup = p // the kubelet's pod cgroup: the kubelet owns it
		return nil
	}
	s.Cgroup, s.OwnsCgroup = "/berth/"+s.ID, true
	if err := journal(s); err != nil {
		return err
	}
	if err := createCgroup(s.Cgroup); err != nil {
		return fmt.Errorf("create cgroup %s: %w", s.Cgroup, err)
	}
	return nil
}

func (m *Manager) startShim(s *Sandbox) error {
	_, err := shim.Spawn(m.opts.ShimBinary, s.ShimDir(), m.shimSocket(s.ID))
	return err
}

// stopShim asks the shim to exit, and kills it if it does not answer.
func stopShim(c *shim.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pid, _ := c.Pid()
	if err := c.Shutdown(ctx); err != nil && !errors.Is(err, shim.ErrShimGone) && pid > 0 && isShim(pid, c.Socket) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
	waitGone(c, pid)
}

// record writes a new pod's record and makes it known. Nobody has its ID
// before, so the write needs no lock: concurrent runs then share commits
// (store.Update) instead of queueing for the manager's lock one fsync at a
// time.
func (m *Manager) record(s *Sandbox) error {
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(store.Sandboxes, s.ID, s) }); err != nil {
		return fmt.Errorf("record pod %s: %w", s.ID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reg.Put(s)
	return nil
}

func hostname(cfg *runtime.PodSandboxConfig) string {
	h := cfg.GetHostname()
	if h == "" {
		h = cfg.GetMetadata().GetName()
	}
	if len(h) > 63 {
		h = h[:63]
	}
	return h
}
