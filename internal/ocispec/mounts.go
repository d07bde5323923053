package ocispec

import (
	"path/filepath"
	"sort"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// setMounts adds the pod's files and the CRI mounts. A CRI mount on a path
// replaces berth's own mount there (kubelet mounts its /etc/hosts).
func setMounts(s *specs.Spec, in *Input) error {
	user := map[string]bool{}
	var mounts []specs.Mount
	for _, m := range in.Config.GetMounts() {
		mount, err := criMount(m)
		if err != nil {
			return err
		}
		user[mount.Destination] = true
		mounts = append(mounts, mount)
		// The container's mount tree must let the propagation through:
		// shared for mounts made inside to reach the host, at least slave
		// for the host's to come in (runc's default is private).
		switch m.GetPropagation() {
		case runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL:
			s.Linux.RootfsPropagation = "rshared"
		case runtime.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
			if s.Linux.RootfsPropagation == "" {
				s.Linux.RootfsPropagation = "rslave"
			}
		}
	}
	ro := in.Config.GetLinux().GetSecurityContext().GetReadonlyRootfs()
	podFiles := []struct{ dst, src string }{
		{"/etc/hostname", in.Pod.Hostname}, {"/etc/hosts", in.Pod.Hosts}, {"/etc/resolv.conf", in.Pod.ResolvConf},
	}
	var base []specs.Mount
	for _, m := range s.Mounts {
		if !user[m.Destination] {
			base = append(base, m)
		}
	}
	for _, f := range podFiles {
		if f.src == "" || user[f.dst] {
			continue
		}
		opts := []string{"rbind", "rprivate"}
		if ro {
			opts = append(opts, "ro")
		}
		base = append(base, specs.Mount{Destination: f.dst, Type: "bind", Source: f.src, Options: opts})
	}
	if !user["/dev/shm"] {
		base = append(base, shmMount(in.Pod.Shm))
	}
	// Parents before children: runc mounts in order.
	sort.SliceStable(mounts, func(i, j int) bool {
		return strings.Count(filepath.Clean(mounts[i].Destination), "/") < strings.Count(filepath.Clean(mounts[j].Destination), "/")
	})
	s.Mounts = append(base, mounts...)
	return nil
}

func shmMount(podShm string) specs.Mount {
	if podShm == "" { // host IPC: the host's /dev/shm
		return specs.Mount{Destination: "/dev/shm", Type: "bind", Source: "/dev/shm", Options: []string{"rbind", "rprivate", "rw"}}
	}
	return specs.Mount{Destination: "/dev/shm", Type: "bind", Source: podShm, Options: []string{"rbind", "rprivate", "rw"}}
}

func criMount(m *runtime.Mount) (specs.Mount, error) {
	if !filepath.IsAbs(m.GetContainerPath()) {
		return specs.Mount{}, errdefs.InvalidArgument("mount container path %q must be absolute", m.GetContainerPath())
	}
	if m.GetHostPath() == "" {
		return specs.Mount{}, errdefs.InvalidArgument("mount to %q has no host path", m.GetContainerPath())
	}
	opts := []string{"rbind"}
	switch m.GetPropagation() {
	case runtime.MountPropagation_PROPAGATION_PRIVATE:
		opts = append(opts, "rprivate")
	case runtime.MountPropagation_PROPAGATION_HOST_TO_CONTAINER:
		opts = append(opts, "rslave")
	case runtime.MountPropagation_PROPAGATION_BIDIRECTIONAL:
		opts = append(opts, "rshared")
	default:
		return specs.Mount{}, errdefs.InvalidArgument("mount %q: unknown propagation %v", m.GetContainerPath(), m.GetPropagation())
	}
	if m.GetRecursiveReadOnly() {
		opts = append(opts, "rro") // read-only all the way down (runc's mount_setattr)
	} else if m.GetReadonly() {
		opts = append(opts, "ro")
	} else {
		opts = append(opts, "rw")
	}
	for _, o := range m.GetMountOptions() { // validated: noexec, nosuid, nodev, access times
		if o != "ro" { // readonly says it
			opts = append(opts, o)
		}
	}
	return specs.Mount{Destination: filepath.Clean(m.GetContainerPath()), Type: "bind", Source: m.GetHostPath(), Options: opts}, nil
}
