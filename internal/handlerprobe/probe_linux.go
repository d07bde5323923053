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

	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/ocispec"
)

// Report is what one handler can do here.
type Report struct {
	Ready  bool   `json:"ready"`
	Reason string `json:"reason,omitempty"` // why not, in the runtime's words
	// RecursiveReadOnlyMounts: the runtime knows the "rro" mount option.
	RecursiveReadOnlyMounts bool `json:"recursiveReadOnlyMounts"`
	// UserNamespaces stays false: berth does not set up user namespaces yet.
	UserNamespaces bool `json:"userNamespaces"`
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

// Probe runs the probes of h, using dir for its scratch bundle and
// pauseBinary as the probe container's process.
// minOOMScoreAdj is the lowest oom_score_adj berthd may set.
func Probe(ctx context.Context, h Handler, dir, pauseBinary, cgroupParent string, minOOMScoreAdj int) Report {
	r := Report{RecursiveReadOnlyMounts: hasMountOption(ctx, h, "rro")}
	if err := tryCreate(ctx, h, dir, pauseBinary, cgroupParent, minOOMScoreAdj); err != nil {
		r.Reason = err.Error()
		return r
	}
	r.Ready = true
	return r
}

// hasMountOption reads `<runtime> features` (runc; crun 1.8 has none).
func hasMountOption(ctx context.Context, h Handler, opt string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	argv := h.runtime().Features()
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return false
	}
	var f struct {
		MountOptions []string `json:"mountOptions"`
	}
	return json.Unmarshal(out, &f) == nil && slices.Contains(f.MountOptions, opt)
}

// tryCreate creates a container running nothing (it never starts) and
// deletes it again.
func tryCreate(ctx context.Context, h Handler, dir, pauseBinary, cgroupParent string, minOOMScoreAdj int) error {
	var b [6]byte
	rand.Read(b[:])
	id := "berth-probe-" + hex.EncodeToString(b[:])
	bundle := filepath.Join(dir, id)
	if err := os.MkdirAll(filepath.Join(bundle, "rootfs"), 0o700); err != nil {
		return err
	}
	defer os.RemoveAll(bundle)
	spec := ocispec.InfraSpec(filepath.Join(bundle, "rootfs"), pauseBinary, strings.TrimSuffix(cgroupParent, "/")+"/"+id, ocispec.Pod{}, minOOMScoreAdj)
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
