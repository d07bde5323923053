package ociruntime

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrNoFifoStart means StartThroughFifo cannot start this container: the
// caller runs the runtime's start instead.
var ErrNoFifoStart = errors.New("start through the exec fifo not possible")

// StartThroughFifo does what `runc start` does for a created container,
// without running runc (a whole runc process, several milliseconds, saved
// on every container start): runc's init waits on <root>/<id>/exec.fifo
// until it is opened for reading and read; then it execs the container's
// process, and the fifo is removed (runc calls a container with no fifo
// running). Only for runc, and only when the bundle has no poststart hooks
// (runc start runs those); otherwise ErrNoFifoStart. alive tells whether
// the container's init still runs: a dead one never opens its end.
func (r Runtime) StartThroughFifo(id, bundle string, alive func() bool) error {
	if filepath.Base(r.Path) != "runc" {
		return ErrNoFifoStart
	}
	fifo := filepath.Join(r.Root, id, "exec.fifo")
	if st, err := os.Stat(fifo); err != nil || st.Mode()&os.ModeNamedPipe == 0 {
		return ErrNoFifoStart
	}
	if spec, err := os.ReadFile(filepath.Join(bundle, "config.json")); err != nil || bytes.Contains(spec, []byte(`"poststart"`)) {
		return ErrNoFifoStart
	}
	opened := make(chan *os.File, 1)
	failed := make(chan error, 1)
	go func() {
		f, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_CLOEXEC, 0) // blocks until init opens its end
		if err != nil {
			failed <- err
			return
		}
		opened <- f
	}()
	var f *os.File
	for f == nil {
		select {
		case f = <-opened:
		case err := <-failed:
			return err
		case <-time.After(100 * time.Millisecond):
			if !alive() {
				// Unblock the open with a writer of our own, then give up.
				if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
					w.Close()
				}
				if f := <-opened; f != nil {
					f.Close()
				}
				return errors.New("the container's init died before it was started")
			}
		}
	}
	data, err := io.ReadAll(f) // init writes one byte, then execs (closing its end)
	f.Close()
	if err != nil {
		return err
	}
	if len(data) == 0 {
		return errors.New("the container's init closed the exec fifo without starting")
	}
	return os.Remove(fifo)
}
