package pod

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/containerd/cgroups/v3"
	"github.com/containerd/cgroups/v3/cgroup1"
	"github.com/containerd/cgroups/v3/cgroup2"
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// createCgroup makes the pod's cgroup (cgroupfs layout) on cgroup v1,
// hybrid or v2 hosts.
func createCgroup(path string) error {
	if cgroups.Mode() == cgroups.Unified {
		_, err := cgroup2.NewManager("/sys/fs/cgroup", path, &cgroup2.Resources{})
		return err
	}
	_, err := cgroup1.New(cgroup1.StaticPath(path), &specs.LinuxResources{})
	return err
}

// updateCgroup applies resources to the pod's cgroup.
func updateCgroup(path string, res *specs.LinuxResources) error {
	if cgroups.Mode() == cgroups.Unified {
		m, err := cgroup2.Load(path)
		if err != nil {
			return err
		}
		return m.Update(cgroup2.ToResources(res))
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(path))
	if err != nil {
		return err
	}
	return cg.Update(res)
}

// removeCgroup deletes the pod's cgroup; one already gone is fine.
// Empty child cgroups left by containers whose runtime state was lost (the
// runtime removes them otherwise) are removed first.
func removeCgroup(path string) error {
	removeChildCgroups(path)
	if cgroups.Mode() == cgroups.Unified {
		m, err := cgroup2.Load(path)
		if err != nil {
			return nil
		}
		if err := m.Delete(); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove cgroup %s: %w", path, err)
		}
		return nil
	}
	// On a hybrid host runc also makes the path in the cgroup2 mount.
	if err := os.Remove(filepath.Join("/sys/fs/cgroup/unified", path)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove cgroup %s (unified): %w", path, err)
	}
	cg, err := cgroup1.Load(cgroup1.StaticPath(path))
	if err != nil {
		if errors.Is(err, cgroup1.ErrCgroupDeleted) || errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("load cgroup %s: %w", path, err)
	}
	if err := cg.Delete(); err != nil {
		return fmt.Errorf("remove cgroup %s: %w", path, err)
	}
	return nil
}

// removeChildCgroups removes, deepest first, the cgroups below path in
// every hierarchy; those with processes stay (and the caller's delete of
// path then says so).
func removeChildCgroups(path string) {
	hierarchies, _ := filepath.Glob("/sys/fs/cgroup/*")
	hierarchies = append(hierarchies, "/sys/fs/cgroup")
	for _, h := range hierarchies {
		root := filepath.Join(h, path)
		var dirs []string
		filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
			if err == nil && d.IsDir() && p != root {
				dirs = append(dirs, p)
			}
			return nil
		})
		for i := len(dirs) - 1; i >= 0; i-- {
			os.Remove(dirs[i])
		}
	}
}
