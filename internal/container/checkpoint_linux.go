package container

import (
	"archive/tar"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	metadata "github.com/checkpoint-restore/checkpointctl/lib"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/ociruntime"
)

// A checkpoint archive is laid out as CRI-O writes it, so that
// checkpointctl reads it and the kubelet's checkpoint API gets what it
// expects: config.dump (which container, from which image), spec.dump (its
// OCI spec), checkpoint/ (CRIU's images of its processes), dump.log
// (CRIU's log), rootfs-diff.tar (its writable layer, as an OCI layer: what
// it deleted are whiteouts) and deleted.files (those paths, as a list).

// defaultCheckpointTimeout bounds a checkpoint whose request gives none.
const defaultCheckpointTimeout = 5 * time.Minute

// Checkpoint writes a checkpoint archive of a running container to
// location (a file; made atomically); the container runs on.
func (m *Manager) Checkpoint(ctx context.Context, id, location string, timeout time.Duration) error {
	if location == "" {
		return errdefs.InvalidArgument("location: is required (the archive file to write)")
	}
	if !filepath.IsAbs(location) {
		return errdefs.InvalidArgument("location: %q is not an absolute path", location)
	}
	if st, err := os.Stat(filepath.Dir(location)); err != nil || !st.IsDir() {
		return errdefs.InvalidArgument("location: the directory of %q does not exist", location)
	}
	if timeout <= 0 {
		timeout = defaultCheckpointTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return m.checkpointAll(ctx, []string{id}, func(*Container) string { return location })
}

// checkpointAll checkpoints running containers as one cut: all are paused
// before the first is dumped and stay paused until the last one's files
// are written (CRIU also checks at restore that each open file has the
// size it had at the dump), then all run on. Each archive goes to the
// file archiveOf names; on error none is left.
func (m *Manager) checkpointAll(ctx context.Context, ids []string, archiveOf func(*Container) string) (err error) {
	var cs []*Container
	for _, id := range ids {
		c, err := m.Get(id)
		if err != nil {
			return err
		}
		unlock := m.locks.Lock(c.ID)
		defer unlock()
		if c, err = m.checkpointable(c.ID); err != nil {
			return err
		}
		cs = append(cs, c)
	}
	var written []string
	defer func() {
		if err != nil {
			for _, f := range written {
				os.Remove(f)
			}
		}
	}()
	works := make([]string, len(cs))
	defer func() {
		for _, w := range works {
			if w != "" {
				os.RemoveAll(w) // only what the checkpoint wrote: no mounts below
			}
		}
	}()
	err = m.whilePaused(ctx, cs, func() error {
		for i, c := range cs {
			work, err := os.MkdirTemp(c.DataDir, "checkpoint-")
			if err != nil {
				return err
			}
			works[i] = work
			if err := m.checkpointPaused(ctx, c, work); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for i, c := range cs {
		if err := writeArchive(works[i], archiveOf(c)); err != nil {
			return err
		}
		written = append(written, archiveOf(c))
	}
	return nil
}

// checkpointable returns the container if it can be checkpointed now.
func (m *Manager) checkpointable(id string) (*Container, error) {
	c, err := m.Get(id)
	if err != nil {
		return nil, err
	}
	if c.State != StateRunning {
		return nil, errdefs.FailedPrecondition("container %s is %s: only a running container can be checkpointed", c.ID, c.State)
	}
	p, err := m.opts.Pods.Get(c.PodID)
	if err != nil {
		return nil, err
	}
	if p.UserNS != "" {
		return nil, errdefs.FailedPrecondition("container %s runs in its pod's own user namespace, which berth does not checkpoint yet", c.ID)
	}
	if _, err := m.runtime(c.Handler); err != nil {
		return nil, err
	}
	return c, nil
}

// whilePaused runs fn with every container of cs paused, and resumes each
// it paused, whatever happens (the ctx may be past its deadline by then).
func (m *Manager) whilePaused(ctx context.Context, cs []*Container, fn func() error) (err error) {
	for _, c := range cs {
		rt, _ := m.runtime(c.Handler)
		if err := ociruntime.Run(ctx, "pause", rt.Pause(c.ID)); err != nil {
			return fmt.Errorf("pause container %s for its checkpoint: %w", c.ID, err)
		}
		defer func() {
			if rerr := ociruntime.Run(context.WithoutCancel(ctx), "resume", rt.Resume(c.ID)); rerr != nil && err == nil {
				err = fmt.Errorf("resume container %s after its checkpoint: %w", c.ID, rerr)
			}
		}()
	}
	return fn()
}

// checkpointPaused dumps a paused container's processes (they stay) and
// writes the rest of the archive's files into work.
func (m *Manager) checkpointPaused(ctx context.Context, c *Container, work string) error {
	rt, err := m.runtime(c.Handler)
	if err != nil {
		return err
	}
	argv := rt.Checkpoint(c.ID, ociruntime.CheckpointOpts{
		ImagePath: filepath.Join(work, metadata.CheckpointDirectory), WorkPath: work, Criu: m.opts.Criu, LeaveRunning: true,
	})
	if err := ociruntime.Run(ctx, "checkpoint", argv); err != nil {
		return fmt.Errorf("checkpoint container %s: %w (CRIU's log: %s)", c.ID, err, lastLines(filepath.Join(work, metadata.DumpLogFile), 3))
	}
	return m.writeCheckpointFiles(c, rt, work)
}

// writeCheckpointFiles adds what is not CRIU's to a checkpoint dir.
func (m *Manager) writeCheckpointFiles(c *Container, rt ociruntime.Runtime, work string) error {
	meta := metadata.ContainerConfig{
		ID: c.ID, Name: c.Config().GetMetadata().GetName(), RootfsImage: c.ImageName, RootfsImageRef: c.ImageID,
		RootfsImageName: c.ImageName, OCIRuntime: filepath.Base(rt.Path), CreatedTime: c.CreatedAt,
		CheckpointedAt: time.Now().UTC(),
	}
	if _, err := metadata.WriteJSONFile(meta, work, metadata.ConfigDumpFile); err != nil {
		return err
	}
	spec, err := os.ReadFile(filepath.Join(c.Bundle, "config.json"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(work, metadata.SpecDumpFile), spec, 0o600); err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(work, metadata.RootFsDiffTar), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	deleted, err := writeRootfsDiff(filepath.Join(c.DataDir, "upper"), f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("rootfs diff of %s: %w", c.ID, err)
	}
	_, err = metadata.WriteJSONFile(deleted, work, metadata.DeletedFilesFile)
	return err
}

// writeRootfsDiff writes an overlay upper dir as an OCI layer: overlay
// whiteouts (0:0 character devices) become .wh. entries, opaque dirs a
// .wh..wh..opq entry. It returns the deleted paths.
func writeRootfsDiff(upper string, w io.Writer) ([]string, error) {
	tw := tar.NewWriter(w)
	deleted := []string{}
	err := eachEntry(upper, func(path, rel string, info fs.FileInfo) error {
		if st, ok := info.Sys().(*syscall.Stat_t); ok && info.Mode()&fs.ModeCharDevice != 0 && st.Rdev == 0 {
			deleted = append(deleted, rel)
			return tw.WriteHeader(&tar.Header{Name: filepath.Join(filepath.Dir(rel), ".wh."+filepath.Base(rel)),
				Typeflag: tar.TypeReg, Mode: 0o600, ModTime: info.ModTime()})
		}
		if err := writeEntry(tw, path, rel, info); err != nil {
			return err
		}
		if info.IsDir() {
			if v, err := getxattr(path, "trusted.overlay.opaque"); err == nil && v == "y" {
				return tw.WriteHeader(&tar.Header{Name: filepath.Join(rel, ".wh..wh..opq"), Typeflag: tar.TypeReg, Mode: 0o600})
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, tw.Close()
}

// eachEntry calls fn for every file below dir (not dir itself), with its
// path relative to dir and its lstat.
func eachEntry(dir string, fn func(path, rel string, info fs.FileInfo) error) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || path == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		info, err := d.Info()
		if err != nil {
			return err
		}
		return fn(path, rel, info)
	})
}

// writeEntry writes one file of the host at path as name.
func writeEntry(tw *tar.Writer, path, name string, info fs.FileInfo) error {
	link := ""
	if info.Mode()&fs.ModeSymlink != 0 {
		var err error
		if link, err = os.Readlink(path); err != nil {
			return err
		}
	}
	hdr, err := tar.FileInfoHeader(info, link)
	if err != nil {
		return nil // a socket: nothing a tar can carry
	}
	hdr.Name = name
	if info.IsDir() {
		hdr.Name += "/"
	}
	hdr.Uname, hdr.Gname = "", ""
	if err := tw.WriteHeader(hdr); err != nil {
		return err
	}
	if !info.Mode().IsRegular() {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.CopyN(tw, f, info.Size()) // the size in the header, even if the file grows
	return err
}

func getxattr(path, name string) (string, error) {
	buf := make([]byte, 16)
	n, err := unix.Lgetxattr(path, name, buf)
	if err != nil {
		return "", err
	}
	return string(buf[:n]), nil
}

// writeArchive tars dir into file (atomically: a temp file renamed).
func writeArchive(dir, file string) error {
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".tmp-")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	tw := tar.NewWriter(tmp)
	err = eachEntry(dir, func(path, rel string, info fs.FileInfo) error { return writeEntry(tw, path, rel, info) })
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write checkpoint archive %s: %w", file, err)
	}
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// lastLines is the end of a log, for an error message.
func lastLines(path string, n int) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return "none"
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}
