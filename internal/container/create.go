package container

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	imagespec "github.com/opencontainers/image-spec/specs-go/v1"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/crashpoint"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/ocispec"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/registry"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
	"github.com/berth-runtime/berth/internal/store"
	"github.com/berth-runtime/berth/internal/validate"
)

// creation carries one CreateContainer through its steps.
type creation struct {
	c       *Container
	cfg     *runtime.ContainerConfig
	pod     *pod.Sandbox
	image   *image.Record
	imgCfg  imagespec.ImageConfig
	runtime ociruntime.Runtime
	volumes []imageVolume // image volumes, stacked under the bundle
	userns  *podUserns    // the pod's own user namespace, or nil
	archive string        // the checkpoint archive a restored container comes from
}

// Create makes a container in a ready pod, from an image already pulled.
// Each step registers its undo; a failure undoes every earlier step.
// An image that is the path of a checkpoint archive restores that
// checkpoint (see restore_linux.go).
func (m *Manager) Create(ctx context.Context, podID string, cfg *runtime.ContainerConfig) (*Container, error) {
	archive := ""
	if ref := cfg.GetImage().GetImage(); checkpointArchive(ref) {
		archive = ref
	}
	return m.create(ctx, podID, cfg, archive)
}

// create makes the container, restoring it from archive if one is given.
func (m *Manager) create(ctx context.Context, podID string, cfg *runtime.ContainerConfig, archive string) (_ *Container, err error) {
	if podID == "" {
		return nil, errdefs.InvalidArgument("pod_sandbox_id: is required")
	}
	if err := validate.Container(cfg); err != nil {
		return nil, err
	}
	p, release, err := m.opts.Pods.Hold(podID)
	if err != nil {
		return nil, err
	}
	defer release()
	cr, err := m.prepare(p, cfg, archive)
	if err != nil {
		return nil, err
	}
	defer cr.userns.Close()
	unlock := m.locks.Lock(cr.pod.ID) // containers of one pod are created one at a time
	defer unlock()
	var undo []func()
	created := false
	defer func() { // also on a panic: the interceptor recovers it, nothing may stay half made
		if !created {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	steps := []struct {
		name string
		do   func(context.Context, *creation) (func(), error)
	}{
		{"name", m.reserveName},
		{"dirs", m.makeDirs},
		{"layers", m.retainLayers},
		{"checkpoint", m.unpackCheckpoint},
		{"rootfs", m.mountRootfs},
		{"volumes", m.mountImageVolumes},
		{"spec", m.writeSpec},
		{"shim", m.shimCreate},
		{"record", m.record},
	}
	var timings []any
	for _, step := range steps {
		stepStart := time.Now()
		u, err := step.do(ctx, cr)
		timings = append(timings, step.name, time.Since(stepStart))
		if u != nil {
			undo = append(undo, u)
		}
		if err != nil {
			return nil, fmt.Errorf("create container %q in pod %s (%s): %w", cfg.GetMetadata().GetName(), cr.pod.ID, step.name, err)
		}
		if step.name == m.opts.FailAfter {
			return nil, fmt.Errorf("injected failure after step %q", step.name)
		}
		crashpoint.Reached("container:" + step.name)
	}
	created = true
	slog.Debug("container created", append([]any{"id", cr.c.ID}, timings...)...)
	m.publish(EventCreated, cr.c)
	if cr.c.RestoreFrom == "" {
		go m.watch(cr.c.ID) // a restored one's is watched once its start restored it
	}
	return cr.c.clone(), nil
}

// prepare resolves the image of a validated request in a held pod.
func (m *Manager) prepare(p *pod.Sandbox, cfg *runtime.ContainerConfig, archive string) (*creation, error) {
	ref := cfg.GetImage().GetImage()
	name := ref
	var img *image.Record
	var err error
	if archive != "" {
		if p.UserNS != "" {
			return nil, errdefs.FailedPrecondition("config.image.image: berth does not restore a checkpoint into a pod with its own user namespace yet")
		}
		img, name, err = m.checkpointImage(archive, ref)
	} else {
		img, err = m.opts.Images.Get(ref)
	}
	if err != nil {
		return nil, err
	}
	rawCfg, err := m.opts.Images.Config(img)
	if err != nil {
		return nil, err
	}
	var ic imagespec.Image
	if err := json.Unmarshal(rawCfg, &ic); err != nil {
		return nil, fmt.Errorf("image %s config: %w", img.ID, err)
	}
	rt, err := m.runtime(p.Handler)
	if err != nil {
		return nil, err
	}
	if err := m.checkHandlerFeatures(p.Handler, cfg); err != nil {
		return nil, err
	}
	id := registry.NewID()
	logPath, err := logPath(p.Config().GetLogDirectory(), cfg.GetLogPath())
	if err != nil {
		return nil, err
	}
	c := &Container{
		ID: id, PodID: p.ID, State: StateCreated, CreatedAt: time.Now().UTC(),
		ImageID: img.ID.String(), ImageName: name, ImageRef: imageRef(img),
		Layers: img.ChainIDs(), StopSignal: effectiveStopSignal(cfg, ic.Config.StopSignal), LogPath: logPath,
		Bundle: filepath.Join(m.opts.StateDir, id), DataDir: filepath.Join(m.opts.RootDir, id),
		Cgroup: strings.TrimSuffix(p.Cgroup, "/") + "/" + id, Handler: p.Handler, config: cfg,
	}
	if c.ConfigProto, err = proto.Marshal(cfg); err != nil {
		return nil, err
	}
	volumes, err := m.resolveImageVolumes(c, cfg)
	if err != nil {
		return nil, err
	}
	if err := sameUserNamespace(p, cfg); err != nil {
		return nil, err
	}
	userns, err := openPodUserns(p.UserNS, p.IDMappings())
	if err != nil {
		return nil, err
	}
	return &creation{c: c, cfg: cfg, pod: p, image: img, imgCfg: ic.Config, runtime: rt, volumes: volumes, userns: userns,
		archive: archive}, nil
}

func imageRef(r *image.Record) string {
	if len(r.RepoDigests) > 0 {
		return r.RepoDigests[0]
	}
	return r.ID.String()
}

// logPath joins the pod's log directory and the container's log path,
// which must stay inside it.
func logPath(dir, rel string) (string, error) {
	if rel == "" || dir == "" {
		return "", nil
	}
	if filepath.IsAbs(rel) {
		return "", errdefs.InvalidArgument("log path %q must be relative to the pod's log directory", rel)
	}
	full := filepath.Join(dir, rel)
	if !strings.HasPrefix(full, filepath.Clean(dir)+"/") {
		return "", errdefs.InvalidArgument("log path %q leaves the pod's log directory %s", rel, dir)
	}
	return full, nil
}

func (m *Manager) reserveName(_ context.Context, cr *creation) (func(), error) {
	return m.reg.Reserve(NameKey(cr.cfg.GetMetadata(), cr.pod.Config().GetMetadata()), cr.c.ID)
}

func (m *Manager) makeDirs(_ context.Context, cr *creation) (func(), error) {
	undo := func() { removeFiles(cr.c.Bundle, cr.c.DataDir) }
	if err := makeRootfsDirs(cr.c.Bundle, cr.c.DataDir); err != nil {
		undo()
		return nil, err
	}
	if cr.userns != nil {
		// runc's init walks to the rootfs as the pod's root.
		if err := cr.userns.ids.GiveToRoot(cr.c.Bundle, cr.c.Rootfs()); err != nil {
			undo()
			return nil, err
		}
	}
	if cr.c.LogPath != "" {
		if err := os.MkdirAll(filepath.Dir(cr.c.LogPath), 0o700); err != nil {
			undo()
			return nil, err
		}
	}
	// Which pod's shim to ask, should a crash cut this creation off.
	if err := os.WriteFile(filepath.Join(cr.c.Bundle, podIDFile), []byte(cr.pod.ID), 0o600); err != nil {
		undo()
		return nil, err
	}
	return undo, nil
}

func (m *Manager) retainLayers(_ context.Context, cr *creation) (func(), error) {
	m.opts.Images.Retain(cr.c.Layers)
	return func() { m.opts.Images.Release(cr.c.Layers) }, nil
}

func (m *Manager) mountRootfs(_ context.Context, cr *creation) (func(), error) {
	lower := m.opts.Images.LayerDirs(cr.image)
	var err error
	if cr.userns != nil {
		err = mountIDMappedOverlay(lower, cr.c.DataDir, cr.c.Rootfs(), filepath.Join(cr.c.Bundle, "layers"), cr.userns)
	} else {
		err = mountOverlay(lower, cr.c.DataDir, cr.c.Rootfs())
	}
	if err != nil {
		return nil, err
	}
	return func() { unmountRootfs(cr.c.Rootfs()) }, nil
}

func (m *Manager) writeSpec(_ context.Context, cr *creation) (func(), error) {
	undo := func() { unstageIDMappedMounts(cr.c.Bundle) }
	in, err := m.specInput(cr)
	if err != nil {
		return undo, err
	}
	spec, err := ocispec.Generate(in)
	if err != nil {
		return undo, err
	}
	if err := checkCommand(cr.c.Rootfs(), spec.Process, spec.Mounts); err != nil {
		return undo, err
	}
	u := spec.Process.User
	groups := append([]uint32{u.GID}, u.AdditionalGids...)
	slices.Sort(groups)
	cr.c.User = &User{UID: u.UID, GID: u.GID, Groups: slices.Compact(groups)}
	data, err := json.Marshal(spec)
	if err != nil {
		return undo, err
	}
	return undo, os.WriteFile(filepath.Join(cr.c.Bundle, "config.json"), data, 0o600)
}

func (m *Manager) specInput(cr *creation) (*ocispec.Input, error) {
	sc := cr.cfg.GetLinux().GetSecurityContext()
	user, err := ocispec.ResolveUser(cr.c.Rootfs(), sc, cr.imgCfg.User)
	if err != nil {
		return nil, err
	}
	devices, err := resolveDevices(cr.cfg.GetDevices())
	if err != nil {
		return nil, err
	}
	cfg, err := withImageVolumeSources(cr.cfg, cr.volumes)
	if err != nil {
		return nil, err
	}
	if err := checkMountSources(cfg.GetMounts()); err != nil {
		return nil, err
	}
	if cfg, err = stageIDMappedMounts(cfg, cr.c.Bundle, cr.userns); err != nil {
		return nil, err
	}
	profile, err := seccompProfile(sc.GetSeccomp())
	if err != nil {
		return nil, err
	}
	host := ocispec.Host{MinOOMScoreAdj: m.opts.MinOOMScoreAdj, Capabilities: heldCapabilities(), Hugetlb: m.opts.Hugetlb}
	if sc.GetPrivileged() {
		host.AllDevices = hostDevices()
	}
	p := cr.pod
	in := &ocispec.Input{
		ID: cr.c.ID, Config: cfg, Sandbox: p.Config(), Image: cr.imgCfg, Rootfs: cr.c.Rootfs(),
		Pod: ocispec.Pod{ID: p.ID, Hostname: filepath.Join(p.Dir, "hostname"), Hosts: filepath.Join(p.Dir, "hosts"),
			ResolvConf: filepath.Join(p.Dir, "resolv.conf"), Shm: p.Shm, NetNS: p.NetNS, IPCNS: p.IPCNS, UTSNS: p.UTSNS,
			PIDNS: p.PIDNamespace(), UserNS: p.UserNS},
		CgroupsPath: cr.c.Cgroup, User: user, Devices: devices, SeccompProfile: profile, Host: host,
		Annotations: map[string]string{
			"io.kubernetes.cri.container-type": "container",
			"io.kubernetes.cri.sandbox-id":     p.ID,
			"io.kubernetes.cri.container-name": cr.cfg.GetMetadata().GetName(),
		},
	}
	if cr.userns != nil {
		in.Pod.UIDMappings, in.Pod.GIDMappings = cr.userns.ids.OCI()
	}
	return in, nil
}

func (m *Manager) shimCreate(ctx context.Context, cr *creation) (func(), error) {
	if cr.c.RestoreFrom != "" {
		return nil, nil // its start restores its processes
	}
	client := m.opts.Pods.Shim(cr.pod)
	_, err := client.Create(ctx, cr.c.ID, &wire.CreateRequest{
		Bundle: cr.c.Bundle, Runtime: cr.runtime.Path, RuntimeRoot: cr.runtime.Root, LogPath: cr.c.LogPath,
		Terminal: cr.cfg.GetTty(), Stdin: cr.cfg.GetStdin(), StdinOnce: cr.cfg.GetStdinOnce(), CgroupPath: cr.c.Cgroup,
	})
	if errors.Is(err, shim.ErrShimGone) {
		return nil, errdefs.FailedPrecondition("pod sandbox %s is not ready: its berth-shim is not running (%v)", cr.pod.ID, err)
	}
	if err != nil {
		return nil, err
	}
	return func() { client.Delete(context.Background(), cr.c.ID) }, nil
}

// record writes a new container's record and makes it known. Nobody has
// its ID before, so the write needs no lock: concurrent creations share
// commits (store.Update).
func (m *Manager) record(_ context.Context, cr *creation) (func(), error) {
	if err := m.db.Update(func(tx *store.Tx) error { return tx.Put(store.Containers, cr.c.ID, cr.c) }); err != nil {
		return nil, fmt.Errorf("record container: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reg.Put(cr.c)
	m.exited[cr.c.ID] = make(chan struct{})
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		m.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Containers, cr.c.ID) })
		m.reg.Delete(cr.c.ID)
		delete(m.exited, cr.c.ID)
	}, nil
}

// explainRuntimeError adds the known cause and cure to runtime failures
// that are otherwise cryptic.
func explainRuntimeError(err error) error {
	if strings.Contains(err.Error(), "cgroups in hybrid mode not supported") {
		return fmt.Errorf("%w (crun refuses cgroup v1+v2 hybrid hosts whose cgroup2 mount lists the hugetlb "+
			"controller; binding hugetlb to a v1 hierarchy fixes it: mkdir /sys/fs/cgroup/hugetlb && "+
			"mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb)", err)
	}
	return err
}

// checkHandlerFeatures refuses what the pod's handler cannot do here.
func (m *Manager) checkHandlerFeatures(handler string, cfg *runtime.ContainerConfig) error {
	if m.opts.HandlerReports == nil {
		return nil
	}
	report, ok := m.opts.HandlerReports.Report(handler)
	if !ok {
		return nil
	}
	for i, mnt := range cfg.GetMounts() {
		if mnt.GetRecursiveReadOnly() && !report.RecursiveReadOnlyMounts {
			return errdefs.FailedPrecondition("config.mounts[%d].recursive_read_only: runtime handler %q has no recursive read-only mounts", i, handler)
		}
	}
	return nil
}
