// Package server is berth-shim itself: it serves the shim protocol for the
// containers of one pod, runs the OCI runtime, copies their output to CRI
// logs and reaps every process that ends up parented to it.
package server

import (
	"os"
	"os/signal"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// reaper reaps every child of the shim (a subreaper: orphaned container
// processes land here). Processes the shim starts register their PID
// before anything can reap them, under the same lock, and get their status
// on a channel; exits of PIDs nobody registered are kept for later claims.
type reaper struct {
	mu        sync.Mutex
	waiting   map[int]chan syscall.WaitStatus
	unclaimed map[int]syscall.WaitStatus
}

func newReaper() *reaper {
	r := &reaper{waiting: map[int]chan syscall.WaitStatus{}, unclaimed: map[int]syscall.WaitStatus{}}
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, unix.SIGCHLD)
	go func() {
		for range sigs {
			r.reap()
		}
	}()
	return r
}

func (r *reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if ch, ok := r.waiting[pid]; ok {
			delete(r.waiting, pid)
			ch <- ws
			continue
		}
		if len(r.unclaimed) < 4096 {
			r.unclaimed[pid] = ws
		}
	}
}

// watch returns a channel that receives pid's exit status. pid must be a
// child (or an orphan re-parented here).
func (r *reaper) watch(pid int) <-chan syscall.WaitStatus {
	ch := make(chan syscall.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	if ws, ok := r.unclaimed[pid]; ok {
		delete(r.unclaimed, pid)
		ch <- ws
		return ch
	}
	r.waiting[pid] = ch
	return ch
}

// start forks and execs argv with files as fds 0, 1, 2, ... and returns the
// channel that will carry its exit status.
func (r *reaper) start(argv []string, files []*os.File) (int, <-chan syscall.WaitStatus, error) {
	fds := make([]uintptr, len(files))
	for i, f := range files {
		fds[i] = f.Fd()
	}
	ch := make(chan syscall.WaitStatus, 1)
	r.mu.Lock()
	defer r.mu.Unlock()
	pid, err := syscall.ForkExec(argv[0], argv, &syscall.ProcAttr{
		Env:   os.Environ(),
		Files: fds,
	})
	if err != nil {
		return 0, nil, err
	}
	r.waiting[pid] = ch
	return pid, ch, nil
}

// exitCode turns a wait status into a shell-style exit code.
func exitCode(ws syscall.WaitStatus) int32 {
	if ws.Signaled() {
		return 128 + int32(ws.Signal())
	}
	return int32(ws.ExitStatus())
}

// unixWaitStatus is a process's wait status.
type unixWaitStatus = syscall.WaitStatus
