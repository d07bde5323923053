// Package server is berth-shim itself: it serves the shim protocol for the
// containers of one pod, runs the OCI runtime, copies their output to CRI
// logs and reaps every process that ends up parented to it.
package server

import (
	"os"
	"sync"
	"syscall"
	"time"

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
	// started wakes the loop when it found no child at all.
	started chan struct{}
}

func newReaper() *reaper {
	r := &reaper{waiting: map[int]chan syscall.WaitStatus{}, unclaimed: map[int]syscall.WaitStatus{},
		started: make(chan struct{}, 1)}
	go r.loop()
	return r
}

// loop sleeps in waitid until some child has exited (WNOWAIT: without
// reaping it), then reaps every exited child. With no child at all it
// waits for start to make one (orphans are re-parented here only from
// descendants, so none can appear meanwhile). This costs one thread
// blocked in the kernel; SIGCHLD through os/signal would cost two, each
// with its own stacks, in a monitor paid per pod.
func (r *reaper) loop() {
	for {
		var info unix.Siginfo
		err := unix.Waitid(unix.P_ALL, 0, &info, unix.WEXITED|unix.WNOWAIT, nil)
		switch err {
		case nil:
			r.reap()
		case unix.EINTR:
		case unix.ECHILD:
			<-r.started
		default:
			time.Sleep(10 * time.Millisecond) // not expected; do not spin
			r.reap()
		}
	}
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
	select {
	case r.started <- struct{}{}:
	default:
	}
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
