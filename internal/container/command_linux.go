package container

import (
	"path"
	"slices"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// defaultPath is the PATH the runtime searches when the process sets none.
const defaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// checkCommand looks the process's argv[0] up in the mounted rootfs, the
// way the runtime will inside the container (PATH, then the file's mode
// for the process's user), so that a command missing from the image is
// answered at CreateContainer as what it is, in the words the kubelet
// shows, instead of as an opaque runtime failure at start. A candidate
// that lies in a volume is not judged: the volume is not mounted yet.
func checkCommand(rootfs string, p *specs.Process, mounts []specs.Mount) error {
	if p == nil || len(p.Args) == 0 {
		return errdefs.InvalidArgument("config.command: no command given and the image has none")
	}
	name := p.Args[0]
	var candidates []string
	if strings.Contains(name, "/") {
		candidates = []string{path.Join(p.Cwd, name)}
	} else {
		for _, dir := range strings.Split(envValue(p.Env, "PATH", defaultPath), ":") {
			if path.IsAbs(dir) {
				candidates = append(candidates, path.Join(dir, name))
			}
		}
	}
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(root)
	denied := false
	for _, c := range candidates {
		if underMount(c, mounts) {
			return nil
		}
		switch st, ok := statInRoot(root, c); {
		case !ok || st.Mode&unix.S_IFMT != unix.S_IFREG:
		case executable(st, p.User):
			return nil
		default:
			denied = true
		}
	}
	if denied {
		return errdefs.FailedPrecondition("config.command: exec: %q: permission denied (the image's file is not executable by uid %d)", name, p.User.UID)
	}
	if strings.Contains(name, "/") {
		return errdefs.InvalidArgument("config.command: exec: %q: no such file or directory in the image", name)
	}
	return errdefs.InvalidArgument("config.command: exec: %q: executable file not found in $PATH", name)
}

// statInRoot stats rel with root as "/": symlinks resolve inside it.
func statInRoot(root int, rel string) (unix.Stat_t, bool) {
	var st unix.Stat_t
	fd, err := unix.Openat2(root, strings.TrimPrefix(rel, "/"), &unix.OpenHow{
		Flags: unix.O_PATH | unix.O_CLOEXEC, Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		return st, false
	}
	defer unix.Close(fd)
	return st, unix.Fstat(fd, &st) == nil
}

// executable applies the kernel's exec permission check for user.
func executable(st unix.Stat_t, u specs.User) bool {
	mode := st.Mode & 0o777
	switch {
	case u.UID == 0:
		return mode&0o111 != 0
	case st.Uid == u.UID:
		return mode&0o100 != 0
	case st.Gid == u.GID || slices.Contains(u.AdditionalGids, st.Gid):
		return mode&0o010 != 0
	}
	return mode&0o001 != 0
}

func underMount(p string, mounts []specs.Mount) bool {
	for _, m := range mounts {
		d := path.Clean(m.Destination)
		if p == d || strings.HasPrefix(p, d+"/") {
			return true
		}
	}
	return false
}

func envValue(env []string, key, def string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(env[i], "="); ok && k == key {
			return v
		}
	}
	return def
}
