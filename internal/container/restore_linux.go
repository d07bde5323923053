package container

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	metadata "github.com/checkpoint-restore/checkpointctl/lib"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/layerstore"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// Restore, as CRI-O does it: CreateContainer whose image is the path of a
// checkpoint archive makes the checkpointed container again in the given
// pod, from the checkpoint's image (which must be present), with its
// writable layer as it was; StartContainer then brings its processes back
// with CRIU instead of starting them, and they run on from where they were.

// checkpointArchive tells whether an image reference is the path of a
// checkpoint archive (an absolute path of a regular file).
func checkpointArchive(ref string) bool {
	if !filepath.IsAbs(ref) {
		return false
	}
	st, err := os.Stat(ref)
	return err == nil && st.Mode().IsRegular()
}

// maxConfigDump bounds the config.dump read from an archive.
const maxConfigDump = 1 << 20

// readCheckpointConfig reads config.dump from a checkpoint archive.
func readCheckpointConfig(archive string) (*metadata.ContainerConfig, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return nil, fmt.Errorf("it has no %s", metadata.ConfigDumpFile)
		}
		if err != nil {
			return nil, err
		}
		if path.Clean(hdr.Name) != metadata.ConfigDumpFile {
			continue
		}
		var meta metadata.ContainerConfig
		if err := json.NewDecoder(io.LimitReader(tr, maxConfigDump)).Decode(&meta); err != nil {
			return nil, fmt.Errorf("%s: %w", metadata.ConfigDumpFile, err)
		}
		return &meta, nil
	}
}

// checkpointImage finds the image a checkpoint archive's container ran
// from, and the name it had then. ref, unless it is the archive itself,
// is the image the caller expects: another image is refused.
func (m *Manager) checkpointImage(archive, ref string) (*image.Record, string, error) {
	meta, err := readCheckpointConfig(archive)
	if err != nil {
		return nil, "", errdefs.InvalidArgument("config.image.image: %s is not a checkpoint archive: %v", archive, err)
	}
	var img *image.Record
	for _, r := range []string{meta.RootfsImageRef, meta.RootfsImageName} {
		if r == "" {
			continue
		}
		if img, err = m.opts.Images.Get(r); err == nil {
			break
		}
	}
	if img == nil {
		return nil, "", errdefs.NotFound("config.image.image: the image of checkpoint %s (%s, %s) is not present: pull it first",
			archive, meta.RootfsImageName, meta.RootfsImageRef)
	}
	if ref != "" && ref != archive {
		want, err := m.opts.Images.Get(ref)
		if err != nil || want.ID != img.ID {
			return nil, "", errdefs.InvalidArgument("config.image.image: %q is not the image the checkpoint ran from (%s, %s)",
				ref, meta.RootfsImageName, img.ID)
		}
	}
	name := meta.RootfsImageName
	if name == "" {
		name = img.ID.String()
	}
	return img, name, nil
}

// checkpointDir holds a restoring container's unpacked archive.
func checkpointDir(dataDir string) string { return filepath.Join(dataDir, "checkpoint") }

// unpackCheckpoint (a creation step) unpacks the archive of a container
// being restored and lays its writable layer into the new upper dir, before
// the rootfs is mounted. Every path stays inside its target.
func (m *Manager) unpackCheckpoint(_ context.Context, cr *creation) (func(), error) {
	if cr.archive == "" {
		return nil, nil
	}
	dir := checkpointDir(cr.c.DataDir)
	undo := func() { os.RemoveAll(dir) } // unpacked files only: nothing is mounted there
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if err := unpackFile(cr.archive, dir); err != nil {
		return undo, errdefs.InvalidArgument("config.image.image: checkpoint archive %s: %v", cr.archive, err)
	}
	upper := filepath.Join(cr.c.DataDir, "upper")
	diff := filepath.Join(dir, metadata.RootFsDiffTar)
	if _, err := os.Stat(diff); err == nil {
		if err := unpackFile(diff, upper); err != nil {
			return undo, errdefs.InvalidArgument("config.image.image: %s of %s: %v", metadata.RootFsDiffTar, cr.archive, err)
		}
	}
	deleted, _, err := metadata.ReadContainerCheckpointDeletedFiles(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return undo, errdefs.InvalidArgument("config.image.image: %s of %s: %v", metadata.DeletedFilesFile, cr.archive, err)
	}
	if err := layerstore.Unpack(whiteouts(deleted), upper); err != nil {
		return undo, errdefs.InvalidArgument("config.image.image: %s of %s: %v", metadata.DeletedFilesFile, cr.archive, err)
	}
	if _, err := os.Stat(filepath.Join(dir, metadata.CheckpointDirectory)); err != nil {
		return undo, errdefs.InvalidArgument("config.image.image: %s has no %s/", cr.archive, metadata.CheckpointDirectory)
	}
	cr.c.RestoreFrom = filepath.Join(dir, metadata.CheckpointDirectory)
	return undo, nil
}

// unpackFile unpacks a tar file into dir (layerstore.Unpack: confined).
func unpackFile(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return layerstore.Unpack(f, dir)
}

// whiteouts is a layer that deletes paths (CRI-O's deleted.files).
func whiteouts(paths []string) io.Reader {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, p := range paths {
		p = path.Clean("/" + p)
		if p == "/" {
			continue
		}
		tw.WriteHeader(&tar.Header{Name: path.Join(path.Dir(p), ".wh."+path.Base(p)), Typeflag: tar.TypeReg, Mode: 0o600})
	}
	tw.Close()
	return &buf
}

// restoreProcesses brings a restoring container's processes back through
// its pod's shim: it is running when this returns.
func (m *Manager) restoreProcesses(ctx context.Context, client Shim, c *Container) error {
	rt, err := m.runtime(c.Handler)
	if err != nil {
		return err
	}
	cfg := c.Config()
	_, err = client.Restore(ctx, c.ID, &wire.CreateRequest{
		Bundle: c.Bundle, Runtime: rt.Path, RuntimeRoot: rt.Root, LogPath: c.LogPath,
		Terminal: cfg.GetTty(), Stdin: cfg.GetStdin(), StdinOnce: cfg.GetStdinOnce(), CgroupPath: c.Cgroup,
		Restore: &wire.RestoreRequest{ImagePath: c.RestoreFrom, WorkPath: filepath.Dir(c.RestoreFrom), Criu: m.opts.Criu},
	})
	if shim.IsUnknownOp(err) {
		return errdefs.FailedPrecondition("the berth-shim of pod %s predates restore (protocol %d): restore into a new pod", c.PodID, wire.Version)
	}
	if err != nil {
		return fmt.Errorf("%w (CRIU's log: %s)", err, lastLines(filepath.Join(filepath.Dir(c.RestoreFrom), metadata.RestoreLogFile), 4))
	}
	return nil
}
