package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/handlerprobe"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/pod"
)

// handlerReady answers whether a handler can create containers here, from
// its start-up probe.
func (d *Daemon) handlerReady(name string) error {
	if r, ok := d.probes.Report(name); ok && !r.Ready {
		return errdefs.FailedPrecondition("runtime handler %q cannot create containers on this host: %s", name, r.Reason)
	}
	return nil
}

// handlerUserNamespaces fails when the handler cannot run pods with their
// own user namespace here.
func (d *Daemon) handlerUserNamespaces(name string) error {
	if r, ok := d.probes.Report(name); ok && r.Ready && !r.UserNamespaces {
		return errdefs.FailedPrecondition("config.linux.security_context.namespace_options.userns_options: "+
			"runtime handler %q cannot run pods with their own user namespace on this host: %s", name, r.UserNamespacesReason)
	}
	return nil
}

// runtimeParts makes the pod and container managers (and starts the
// handler probes). Recovery is the caller's next step.
func (d *Daemon) runtimeParts(images *image.Service, net *network.Manager) (*pod.Manager, *container.Manager, []string, error) {
	cfg := d.cfg
	shimBin, err := besideBerthd(cfg.Runtime.Shim, "berth-shim")
	if err != nil {
		return nil, nil, nil, err
	}
	runtimes := map[string]ociruntime.Runtime{}
	handlers := map[string]bool{}
	var names []string
	for name, h := range cfg.Runtime.Handlers {
		path := h.Path
		if p, err := exec.LookPath(h.Path); err == nil {
			path = p
		} else {
			slog.Warn("runtime handler binary not found; pods using it will fail", "handler", name, "path", h.Path)
		}
		root := h.Root
		if root == "" {
			root = filepath.Join(cfg.State, "runtime", name)
		}
		runtimes[name] = ociruntime.Runtime{Path: path, Root: root}
		handlers[name] = true
		names = append(names, name)
	}
	sort.Strings(names)
	pauseBin, err := besideBerthd(cfg.Runtime.Pause, "berth-pause")
	if err != nil {
		return nil, nil, nil, err
	}
	minAdj := -1000
	if cfg.Runtime.ClampOOMScoreAdj {
		minAdj = container.MinOOMScoreAdj()
	}
	probeTargets := map[string]handlerprobe.Handler{}
	for name, rt := range runtimes {
		probeTargets[name] = handlerprobe.Handler{Path: rt.Path, Root: filepath.Join(cfg.State, "probe", "root", name)}
	}
	d.probes = handlerprobe.Start(context.Background(), probeTargets, handlerprobe.Options{
		Dir: filepath.Join(cfg.State, "probe"), PauseBinary: pauseBin, CgroupParent: "/berth", MinOOMScoreAdj: minAdj,
		LayerDir: cfg.Root, StateDir: cfg.State,
	})
	hugetlb := container.DetectHugetlb(cfg.Runtime.HugepageLimits)
	slog.Info("hugepage limits", "applied", hugetlb.Applies(), "policy", hugetlb.Policy, "why", hugetlb.Reason)
	podOpts := pod.Options{
		StateDir: cfg.State, DB: d.db, ShimBinary: shimBin, Handlers: handlers,
		DefaultHandler: cfg.Runtime.DefaultHandler, ShmSize: cfg.Runtime.ShmSize,
		Runtimes: runtimes, PauseBinary: pauseBin, MinOOMScoreAdj: minAdj, Network: net,
		HandlerReady: d.handlerReady, HandlerUserNamespaces: d.handlerUserNamespaces, FailAfter: failAfter("pod"),
	}
	if cfg.Runtime.PauseImage != "" {
		podOpts.PauseImage = cfg.Runtime.PauseImage
		podOpts.InfraImage = container.InfraImage{Images: images, Puller: imagePuller{images}}.Rootfs
	}
	var containers *container.Manager
	pods, err := pod.NewManager(podOpts, func(pods *pod.Manager) (pod.Containers, error) {
		containers, err = container.NewManager(container.Options{
			StateDir: filepath.Join(cfg.State, "containers"), RootDir: filepath.Join(cfg.Root, "containers"),
			DB: d.db, Pods: container.PodManager{Manager: pods}, Images: images, Runtimes: runtimes, MinOOMScoreAdj: minAdj, Hugetlb: hugetlb,
			HandlerReports: d.probes, Criu: cfg.Runtime.Criu, FailAfter: failAfter("container"),
		})
		return containers, err
	})
	if err != nil {
		return nil, nil, nil, err
	}
	return pods, containers, names, nil
}

// failAfter reads BERTH_TEST_FAIL_AFTER ("pod:STEP" or "container:STEP"),
// a hook for the integration tests that prove a failed RunPodSandbox or
// CreateContainer leaves nothing behind: the step for what (pod or
// container), else "".
func failAfter(what string) string {
	kind, step, ok := strings.Cut(os.Getenv("BERTH_TEST_FAIL_AFTER"), ":")
	if !ok || kind != what {
		return ""
	}
	slog.Warn("test hook: failing after a step", "what", what, "step", step)
	return step
}

// besideBerthd finds one of berth's helper binaries: the configured path,
// else the one beside berthd, else in $PATH.
func besideBerthd(configured, name string) (string, error) {
	if configured != "" {
		return configured, nil
	}
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found beside berthd nor in $PATH (set it in [runtime])", name)
	}
	return p, nil
}

// imagePuller pulls a missing image through the image service.
type imagePuller struct{ images *image.Service }

func (p imagePuller) EnsureImage(ctx context.Context, ref string) error {
	if _, err := p.images.Get(ref); err == nil {
		return nil
	}
	r, err := image.ParseReference(ref)
	if err != nil {
		return err
	}
	_, err = p.images.Pull(ctx, r, nil)
	return err
}
