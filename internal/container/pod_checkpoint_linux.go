package container

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	metadata "github.com/checkpoint-restore/checkpointctl/lib"
	"google.golang.org/protobuf/encoding/protojson"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/pod"
)

// A pod checkpoint (CheckpointPod, RestorePod) is a directory the caller
// gives: pod.options (checkpointctl's CheckpointedPodOptions: each
// container's name and its archive's file), pod.dump (the pod's config,
// as JSON) and one container checkpoint archive per container, named
// after it, all taken as one cut (see checkpointAll).

// podCheckpointVersion is the version pod.options says.
const podCheckpointVersion = 1

// CheckpointPod checkpoints the given running containers of a pod into
// dir (an existing, empty directory the caller owns). Options are none: a
// key is refused. On error nothing is left in dir.
func (m *Manager) CheckpointPod(ctx context.Context, podID, dir string, ids []string, options map[string]string) (err error) {
	if err := noOptions(options); err != nil {
		return err
	}
	if err := emptyDir("output_path", dir); err != nil {
		return err
	}
	if len(ids) == 0 {
		return errdefs.InvalidArgument("container_ids: is empty")
	}
	p, err := m.opts.Pods.Get(podID)
	if err != nil {
		return err
	}
	if p.State != pod.StateReady {
		return errdefs.FailedPrecondition("pod %s is %s: only a ready pod can be checkpointed", p.ID, p.State)
	}
	names := map[string]string{} // name -> archive file
	seen := map[string]bool{}
	for i, id := range ids {
		c, err := m.Get(id)
		if err != nil {
			return err
		}
		switch {
		case seen[c.ID]:
			return errdefs.InvalidArgument("container_ids[%d]: %s is given twice", i, id)
		case c.PodID != p.ID:
			return errdefs.InvalidArgument("container_ids[%d]: container %s is not in pod %s", i, id, p.ID)
		}
		seen[c.ID] = true
		name := c.Config().GetMetadata().GetName()
		if _, dup := names[name]; dup {
			return errdefs.InvalidArgument("container_ids[%d]: a second container named %q", i, name)
		}
		names[name] = name + ".tar"
	}
	sorted := slices.Sorted(maps.Keys(seen)) // one lock order for every caller
	defer func() {
		if err != nil {
			for _, f := range []string{metadata.PodOptionsFile, metadata.PodDumpFile} {
				os.Remove(filepath.Join(dir, f))
			}
		}
	}()
	err = m.checkpointAll(ctx, sorted, func(c *Container) string {
		return filepath.Join(dir, names[c.Config().GetMetadata().GetName()])
	})
	if err != nil {
		return err
	}
	dump, err := protojson.Marshal(p.Config())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, metadata.PodDumpFile), dump, 0o600); err != nil {
		return err
	}
	_, err = metadata.WriteJSONFile(metadata.CheckpointedPodOptions{Version: podCheckpointVersion, Containers: names}, dir, metadata.PodOptionsFile)
	if err != nil {
		for _, f := range names {
			os.Remove(filepath.Join(dir, f))
		}
	}
	return err
}

// PodCheckpoint is a pod checkpoint read back: each container's archive
// by container name.
type PodCheckpoint struct {
	Archives map[string]string
}

// ReadPodCheckpoint reads the pod checkpoint in dir (not changing it).
func ReadPodCheckpoint(dir string, options map[string]string) (*PodCheckpoint, error) {
	if err := noOptions(options); err != nil {
		return nil, err
	}
	if !filepath.IsAbs(dir) {
		return nil, errdefs.InvalidArgument("checkpoint_path: %q is not an absolute path", dir)
	}
	opts, _, err := metadata.ReadCheckpointPodOptions(dir)
	if err != nil {
		return nil, errdefs.InvalidArgument("checkpoint_path: %s is not a pod checkpoint: %v", dir, err)
	}
	if opts.Version != podCheckpointVersion || len(opts.Containers) == 0 {
		return nil, errdefs.InvalidArgument("checkpoint_path: %s: version %d with %d containers (berth reads version %d)",
			dir, opts.Version, len(opts.Containers), podCheckpointVersion)
	}
	pc := &PodCheckpoint{Archives: map[string]string{}}
	for name, file := range opts.Containers {
		if file != filepath.Base(file) || !checkpointArchive(filepath.Join(dir, file)) {
			return nil, errdefs.InvalidArgument("checkpoint_path: the archive %q of container %q is not a file in %s", file, name, dir)
		}
		pc.Archives[name] = filepath.Join(dir, file)
	}
	return pc, nil
}

// Match checks that cfgs are one config for each container of the
// checkpoint, by metadata name.
func (pc *PodCheckpoint) Match(cfgs []*runtime.ContainerConfig) error {
	if len(cfgs) == 0 {
		return errdefs.InvalidArgument("container_configs: is empty")
	}
	seen := map[string]bool{}
	for i, cfg := range cfgs {
		name := cfg.GetMetadata().GetName()
		switch {
		case name == "":
			return errdefs.InvalidArgument("container_configs[%d].metadata.name: is required", i)
		case seen[name]:
			return errdefs.InvalidArgument("container_configs[%d].metadata.name: %q is given twice", i, name)
		case pc.Archives[name] == "":
			return errdefs.InvalidArgument("container_configs[%d].metadata.name: the checkpoint has no container %q", i, name)
		}
		seen[name] = true
	}
	if len(seen) != len(pc.Archives) {
		var missing []string
		for name := range pc.Archives {
			if !seen[name] {
				missing = append(missing, name)
			}
		}
		slices.Sort(missing)
		return errdefs.InvalidArgument("container_configs: no config for the checkpoint's containers %v", missing)
	}
	return nil
}

// RestoreContainers creates, in a ready pod, each container of the
// checkpoint from its config and archive, created (their starts restore
// their processes). All or none: on error the ones made are removed.
func (m *Manager) RestoreContainers(ctx context.Context, podID string, pc *PodCheckpoint, cfgs []*runtime.ContainerConfig) (_ []*Container, err error) {
	if err := pc.Match(cfgs); err != nil {
		return nil, err
	}
	var made []*Container
	defer func() {
		if err != nil {
			for _, c := range made {
				m.Remove(context.WithoutCancel(ctx), c.ID)
			}
		}
	}()
	for i, cfg := range cfgs {
		c, err := m.create(ctx, podID, cfg, pc.Archives[cfg.GetMetadata().GetName()])
		if err != nil {
			return nil, fmt.Errorf("container_configs[%d] (%s): %w", i, cfg.GetMetadata().GetName(), err)
		}
		made = append(made, c)
	}
	return made, nil
}

// noOptions refuses runtime options: berth takes none.
func noOptions(options map[string]string) error {
	for k := range options {
		return errdefs.InvalidArgument("options: berth takes no checkpoint options, got %q", k)
	}
	return nil
}

// emptyDir checks that dir is an absolute path of an existing empty dir.
func emptyDir(field, dir string) error {
	if !filepath.IsAbs(dir) {
		return errdefs.InvalidArgument("%s: %q is not an absolute path", field, dir)
	}
	entries, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return errdefs.InvalidArgument("%s: %s does not exist", field, dir)
	}
	if err != nil {
		return errdefs.InvalidArgument("%s: %v", field, err)
	}
	if len(entries) > 0 {
		return errdefs.InvalidArgument("%s: %s is not empty", field, dir)
	}
	return nil
}
