package pod

import (
	"errors"
	"log/slog"
	"sync"

	"golang.org/x/sys/unix"
)

// shimWatch notices at once when a pod's shim process exits, killed or
// crashed: one goroutine waits in epoll on a pidfd per shim (a pidfd is
// readable once its process has exited), so there is no polling and no
// thread per pod. Shims are not berthd's children after a restart, which
// pidfds do not mind.
type shimWatch struct {
	epfd   int
	onDead func(podID string)

	mu    sync.Mutex
	byFD  map[int32]string // pidfd -> pod ID
	byPod map[string]int32
}

func newShimWatch(onDead func(podID string)) (*shimWatch, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	w := &shimWatch{epfd: epfd, onDead: onDead, byFD: map[int32]string{}, byPod: map[string]int32{}}
	go w.loop()
	return w, nil
}

// add watches pod podID's shim, pid. It reports whether the shim runs: a
// pid that is gone, or is not this pod's shim (socket says which), is dead.
func (w *shimWatch) add(podID string, pid int, socket string) bool {
	if pid <= 0 {
		return false
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return false
	}
	if !isShim(pid, socket) { // the pid was reused: the shim is gone
		unix.Close(fd)
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if old, ok := w.byPod[podID]; ok {
		w.removeLocked(old)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fd)}
	if err := unix.EpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		unix.Close(fd)
		slog.Warn("watch shim", "pod", podID, "err", err)
		return true
	}
	w.byFD[int32(fd)], w.byPod[podID] = podID, int32(fd)
	return true
}

// forget stops watching a pod's shim (before berthd shuts it down itself).
func (w *shimWatch) forget(podID string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if fd, ok := w.byPod[podID]; ok {
		w.removeLocked(fd)
	}
}

func (w *shimWatch) removeLocked(fd int32) {
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, int(fd), nil)
	unix.Close(int(fd))
	delete(w.byPod, w.byFD[fd])
	delete(w.byFD, fd)
}

func (w *shimWatch) loop() {
	events := make([]unix.EpollEvent, 16)
	for {
		n, err := unix.EpollWait(w.epfd, events, -1)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			slog.Error("shim watch stopped", "err", err)
			return
		}
		for _, ev := range events[:n] {
			w.mu.Lock()
			podID, ok := w.byFD[ev.Fd]
			if ok {
				w.removeLocked(ev.Fd)
			}
			w.mu.Unlock()
			if ok {
				go w.onDead(podID)
			}
		}
	}
}
