package pod

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/idmap"
)

// nsKind is one namespace a pod pins.
type nsKind struct {
	name string // as in /proc/PID/ns/
	flag int
}

var (
	netNS = nsKind{"net", unix.CLONE_NEWNET}
	ipcNS = nsKind{"ipc", unix.CLONE_NEWIPC}
	utsNS = nsKind{"uts", unix.CLONE_NEWUTS}
	// userNS is pinned only by pinInUserNamespace.
	userNS = nsKind{"user", unix.CLONE_NEWUSER}
)

// pinNamespaces creates new namespaces of the given kinds on a dedicated OS
// thread, sets the hostname (UTS) and brings loopback up (network), and
// bind-mounts each onto dir/<name> so that it lives without any process.
// The thread is never returned to Go's scheduler: it exits with its
// goroutine. On error nothing stays mounted.
func pinNamespaces(dir string, kinds []nsKind, hostname string) (map[string]string, error) {
	if len(kinds) == 0 {
		return map[string]string{}, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	type result struct {
		paths map[string]string
		err   error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		paths, err := pinOnThisThread(dir, kinds, hostname)
		done <- result{paths, err}
	}()
	r := <-done
	return r.paths, r.err
}

func pinOnThisThread(dir string, kinds []nsKind, hostname string) (paths map[string]string, err error) {
	flags := 0
	for _, k := range kinds {
		flags |= k.flag
	}
	if err := unix.Unshare(flags); err != nil {
		return nil, fmt.Errorf("unshare namespaces: %w", err)
	}
	paths = map[string]string{}
	defer func() {
		if err != nil {
			unpinNamespaces(paths)
		}
	}()
	for _, k := range kinds {
		if err := configure(k, hostname); err != nil {
			return nil, err
		}
		p := filepath.Join(dir, k.name)
		if err := pin(fmt.Sprintf("/proc/thread-self/ns/%s", k.name), p); err != nil {
			return nil, err
		}
		paths[k.name] = p
	}
	return paths, nil
}

// configure readies a new namespace of kind k that the calling thread is
// in: the pod's hostname (UTS), loopback up (network).
func configure(k nsKind, hostname string) error {
	switch k {
	case utsNS:
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return fmt.Errorf("set hostname %q: %w", hostname, err)
		}
	case netNS:
		return loopbackUp()
	}
	return nil
}

// pinInUserNamespace is pinNamespaces for a pod with its own user
// namespace: a holder process (berth-pause) is started in a new user
// namespace with the pod's mappings and in new namespaces of kinds owned
// by it (so that the pod's root may mount sysfs, set its net sysctls, ...),
// all are pinned under dir, and a throwaway thread joins each to configure
// it. On error nothing stays mounted.
func pinInUserNamespace(dir string, kinds []nsKind, hostname, holder string, ids *idmap.Mappings) (paths map[string]string, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	flags := 0
	for _, k := range kinds {
		flags |= k.flag
	}
	h, err := idmap.Spawn(holder, ids, uintptr(flags))
	if err != nil {
		return nil, err
	}
	defer h.Close()
	paths = map[string]string{}
	defer func() {
		if err != nil {
			unpinNamespaces(paths)
		}
	}()
	for _, k := range append([]nsKind{userNS}, kinds...) {
		p := filepath.Join(dir, k.name)
		if err := pin(h.NamespacePath(k.name), p); err != nil {
			return nil, err
		}
		paths[k.name] = p
	}
	done := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		done <- configureJoined(paths, kinds, hostname)
	}()
	return paths, <-done
}

// configureJoined joins each pinned namespace of kinds and configures it.
func configureJoined(paths map[string]string, kinds []nsKind, hostname string) error {
	for _, k := range kinds {
		fd, err := unix.Open(paths[k.name], unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			return err
		}
		err = unix.Setns(fd, k.flag)
		unix.Close(fd)
		if err != nil {
			return fmt.Errorf("join the pod's %s namespace: %w", k.name, err)
		}
		if err := configure(k, hostname); err != nil {
			return err
		}
	}
	return nil
}

func pin(nsPath, target string) error {
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_RDONLY, 0o400)
	if err != nil {
		return fmt.Errorf("create namespace file: %w", err)
	}
	f.Close()
	if err := unix.Mount(nsPath, target, "", unix.MS_BIND, ""); err != nil {
		os.Remove(target)
		return fmt.Errorf("pin namespace %s: %w", target, err)
	}
	return nil
}

// unpinNamespaces unmounts and removes pinned namespace files; missing
// ones are fine (idempotent).
func unpinNamespaces(paths map[string]string) error {
	var first error
	for _, p := range paths {
		if _, err := os.Lstat(p); p == "" || os.IsNotExist(err) {
			continue // never pinned, or gone already
		}
		if err := unix.Unmount(p, unix.MNT_DETACH); err != nil && err != unix.EINVAL && err != unix.ENOENT && first == nil {
			first = fmt.Errorf("unpin %s: %w", p, err)
		}
		if err := os.Remove(p); err != nil && !os.IsNotExist(err) && first == nil {
			first = err
		}
	}
	return first
}

// loopbackUp sets "lo" up in the calling thread's network namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("loopback: %w", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback flags: %w", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("loopback up: %w", err)
	}
	return nil
}
