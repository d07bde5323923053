package idmap

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// HoldArg is the argument that makes berth-pause hold its namespaces until
// its stdin closes.
const HoldArg = "--hold-namespaces"

// Holder is a process (berth-pause HoldArg) in a new user namespace, and in
// new namespaces of other kinds owned by it, kept alive until Close: while
// it lives, its /proc/PID/ns files name the namespaces, to be pinned.
type Holder struct {
	cmd     *exec.Cmd
	release io.Closer
}

// Spawn starts holder in a new user namespace with m's mappings and new
// namespaces of cloneFlags (CLONE_NEWNET, ...) owned by it.
func Spawn(holder string, m *Mappings, cloneFlags uintptr) (*Holder, error) {
	// The binary is run through an fd: from inside the new user namespace
	// the dirs on its path may not be searchable (a test's 0700 temp dir).
	bin, err := os.Open(holder)
	if err != nil {
		return nil, fmt.Errorf("user namespace holder: %w", err)
	}
	defer bin.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	conv := func(ms []Mapping) []syscall.SysProcIDMap {
		out := make([]syscall.SysProcIDMap, 0, len(ms))
		for _, x := range ms {
			out = append(out, syscall.SysProcIDMap{ContainerID: int(x.ContainerID), HostID: int(x.HostID), Size: int(x.Size)})
		}
		return out
	}
	cmd := &exec.Cmd{
		Path: "/proc/self/fd/3", Args: []string{"berth-pause", HoldArg},
		Stdin: r, ExtraFiles: []*os.File{bin},
		SysProcAttr: &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER | cloneFlags,
			UidMappings: conv(m.UIDs), GidMappings: conv(m.GIDs),
			// The pod's processes keep setgroups(2) (supplemental groups).
			GidMappingsEnableSetgroups: true,
			Pdeathsig:                  syscall.SIGKILL,
		},
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, fmt.Errorf("start user namespace holder: %w", err)
	}
	return &Holder{cmd: cmd, release: w}, nil
}

// NamespacePath is the holder's namespace of kind ("user", "net", ...).
func (h *Holder) NamespacePath(kind string) string {
	return fmt.Sprintf("/proc/%d/ns/%s", h.cmd.Process.Pid, kind)
}

// Close lets the holder exit and reaps it.
func (h *Holder) Close() error {
	h.release.Close()
	return h.cmd.Wait()
}

// Mount mounts a copy of src at target (an existing dir, or file for a
// file) through which files appear with the mapping of the user namespace
// open as userns: a file of host UID 0 belongs to that namespace's root.
// recursive takes src's submounts along.
func Mount(src, target string, userns *os.File, recursive bool) error {
	fd, err := cloneIDMapped(src, userns, recursive)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	if err := unix.MoveMount(fd, "", unix.AT_FDCWD, target, unix.MOVE_MOUNT_F_EMPTY_PATH); err != nil {
		return fmt.Errorf("idmapped mount of %s: move_mount to %s: %w", src, target, err)
	}
	return nil
}

// cloneIDMapped returns a detached, idmapped copy of the mount tree at src.
func cloneIDMapped(src string, userns *os.File, recursive bool) (int, error) {
	flags := unix.OPEN_TREE_CLONE | unix.OPEN_TREE_CLOEXEC
	setFlags := unix.AT_EMPTY_PATH
	if recursive {
		flags |= unix.AT_RECURSIVE
		setFlags |= unix.AT_RECURSIVE
	}
	fd, err := unix.OpenTree(unix.AT_FDCWD, src, uint(flags))
	if err != nil {
		return -1, fmt.Errorf("idmapped mount of %s: open_tree: %w", src, err)
	}
	attr := unix.MountAttr{Attr_set: unix.MOUNT_ATTR_IDMAP, Userns_fd: uint64(userns.Fd())}
	if err := unix.MountSetattr(fd, "", uint(setFlags), &attr); err != nil {
		unix.Close(fd)
		return -1, fmt.Errorf("idmapped mount of %s: mount_setattr: %w", src, err)
	}
	return fd, nil
}

// Supported says whether dir's filesystem takes idmapped mounts (kernel
// 5.12 and later, per filesystem), trying one with holder as the user
// namespace's process.
func Supported(holder, dir string) error {
	m := &Mappings{UIDs: []Mapping{{0, 1 << 30, 65536}}, GIDs: []Mapping{{0, 1 << 30, 65536}}}
	h, err := Spawn(holder, m, 0)
	if err != nil {
		return err
	}
	defer h.Close()
	userns, err := os.Open(h.NamespacePath("user"))
	if err != nil {
		return err
	}
	defer userns.Close()
	fd, err := cloneIDMapped(dir, userns, false)
	if err != nil {
		return err
	}
	return unix.Close(fd)
}

// GiveToRoot chowns paths (not following symlinks) to the namespace's
// root: what runc's init must reach from inside it.
func (m *Mappings) GiveToRoot(paths ...string) error {
	uid, gid, err := m.Root()
	if err != nil {
		return err
	}
	for _, p := range paths {
		if err := os.Lchown(p, uid, gid); err != nil {
			return err
		}
	}
	return nil
}

// OCI is m as a runtime spec's uidMappings and gidMappings.
func (m *Mappings) OCI() (uids, gids []specs.LinuxIDMapping) {
	conv := func(ms []Mapping) []specs.LinuxIDMapping {
		out := make([]specs.LinuxIDMapping, 0, len(ms))
		for _, x := range ms {
			out = append(out, specs.LinuxIDMapping{ContainerID: x.ContainerID, HostID: x.HostID, Size: x.Size})
		}
		return out
	}
	return conv(m.UIDs), conv(m.GIDs)
}
