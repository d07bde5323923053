package pod

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
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
		switch k {
		case utsNS:
			if err := unix.Sethostname([]byte(hostname)); err != nil {
				return nil, fmt.Errorf("set hostname %q: %w", hostname, err)
			}
		case netNS:
			if err := loopbackUp(); err != nil {
				return nil, err
			}
		}
		p := filepath.Join(dir, k.name)
		if err := pin(fmt.Sprintf("/proc/thread-self/ns/%s", k.name), p); err != nil {
			return nil, err
		}
		paths[k.name] = p
	}
	return paths, nil
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
