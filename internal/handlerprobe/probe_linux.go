// Package handlerprobe finds out what each OCI runtime handler can do on
// this host: the features it reports (`runc features`) and whether it can
// create a container here at all, by creating and deleting a tiny one (on
// a hybrid cgroup host Debian's crun 1.8 cannot). berthd reports handlers
// that fail as not ready, with the reason, instead of failing every pod.
package handlerprobe

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/berth-runtime/berth/internal/idmap"
	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/ocispec"
)

// Report is what one handler can do here.
type Report struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"` // why not, in the runtime's words
	// RecursiveReadOnlyMounts: the runtime knows the "rro" mount option.
	RecursiveReadOnlyMounts bool `json:"recursiveReadOnlyMounts"`
	// UserNamespaces: pods with their own user namespace can run: the
	// runtime knows user namespaces and the layer store's filesystem takes
	// the idmapped mounts berth makes for them (the runtime's own idmapped
	// mount support is not needed).
	UserNamespaces bool `json:"userNamespaces"`
	// UserNamespacesReason says why not, when the handler is ready.
	UserNamespacesReason string `json:"userNamespacesReason,omitempty"`
}

// Handler names one runtime to probe, with a --root of the probe's own
// (not the handler's: nothing else may see or sweep the probe container).
type Handler struct {
	Path, Root string
}

func (h Handler) runtime() ociruntime.Runtime { return ociruntime.Runtime{Path: h.Path, Root: h.Root} }

// sweep deletes probe containers a crash left in h's probe root.
func sweep(ctx context.Context, h Handler) {
	entries, _ := os.ReadDir(h.Root)
	for _, e := range entries {
		if e.IsDir() {
			argv := h.runtime().Delete(e.Name(), true)
			exec.CommandContext(ctx, argv[0], argv[1:]...).Run()
		}
	}
}

// Probe runs the probes of h.
func Probe(ctx context.Context, h Handler, opts Options) Report {
	features := readFeatures(ctx, h)
	r := Report{RecursiveReadOnlyMounts: slices.Contains(features.MountOptions, "rro")}
	if err := tryCreate(ctx, h, opts); err != nil {
		r.Reason = err.Error()
		return r
	}
	r.Ready = true
	if err := userNamespaces(features, opts); err != nil {
		r.UserNamespacesReason = err.Error()
	} else {
		r.UserNamespaces = true
	}
	return r
}

// userNamespaces says why pods with their own user namespace cannot run.
func userNamespaces(f runtimeFeatures, opts Options) error {
	if f.Linux != nil && !slices.Contains(f.Linux.Namespaces, "user") {
		return fmt.Errorf("the runtime lists no user namespaces")
	}
	if opts.LayerDir == "" {
		return fmt.Errorf("no layer dir to probe")
	}
	if err := searchableAbove(opts.StateDir); err != nil {
		return err
	}
	return idmap.Supported(opts.PauseBinary, opts.LayerDir)
}

// searchableAbove fails if a dir above dir is not searchable by others.
func searchableAbove(dir string) error {
	for d := filepath.Dir(filepath.Clean(dir)); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("%s (mode %v) is not searchable by other users, so a pod's root cannot reach its container's rootfs below it", d, st.Mode().Perm())
		}
		if d == "/" || d == "." {
			return nil
		}
	}
}

// runtimeFeatures is what berth reads of `<runtime> features`.
type runtimeFeatures struct {
	MountOptions []string `json:"mountOptions"`
	Linux        *struct {
		Namespaces []string `json:"namespaces"`
	} `json:"linux"`
}

// readFeatures reads `<runtime> features` (runc; crun 1.8 has none: then
// nothing is known and nothing is ruled out).
func readFeatures(ctx context.Context, h Handler) runtimeFeatures {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	argv := h.runtime().Features()
	var f runtimeFeatures
	if out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output(); err == nil {
		json.Unmarshal(out, &f)
	}
	return f
}

// tryCreate creates a container running nothing (it never starts) and
// deletes it again.
func tryCreate(ctx context.Context, h Handler, opts Options) error {
	var b [6]byte
	rand.Read(b[:])
	id := "berth-probe-" + hex.EncodeToString(b[:])
	bundle := filepath.Join(opts.Dir, id)
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(bundle)
	spec := ocispec.InfraSpec(filepath.Join(bundle, "rootfs"), opts.PauseBinary, strings.TrimSuffix(opts.CgroupParent, "/")+"/"+id, ocispec.Pod{}, opts.MinOOMScoreAdj)
	data, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(bundle, "config.json"), data, 0o600); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	// Output goes to a file: the created container inherits it, and a pipe
	// would keep Run waiting for the container to close it.
	out, err := os.CreateTemp(bundle, "out")
	if err != nil {
		return err
	}
	defer out.Close()
	run := func(verb string, argv []string) error {
		cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = out, out
		start, _ := out.Seek(0, io.SeekEnd)
		if err := cmd.Run(); err != nil {
			text, _ := io.ReadAll(io.NewSectionReader(out, start, 1<<16))
			return fmt.Errorf("%s %s: %s", filepath.Base(h.Path), verb, firstLine(string(text), err))
		}
		return nil
	}
	rt := h.runtime()
	if err := run("create", rt.Create(id, ociruntime.CreateOpts{Bundle: bundle, PidFile: filepath.Join(bundle, "pid")})); err != nil {
		run("delete", rt.Delete(id, true))
		return err
	}
	return run("delete", rt.Delete(id, true))
}

func firstLine(out string, err error) string {
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return l
		}
	}
	return err.Error()
}
