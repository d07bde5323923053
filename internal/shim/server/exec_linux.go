package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// defaultMaxOutput caps each stream of an ExecSync, as the kubelet does.
const defaultMaxOutput = 16 << 20

// exec runs a process in the container and collects its output. The
// process is killed at the timeout, or when the caller hangs up (gone);
// none outlives the call.
func (c *container) exec(s *Server, req *wire.ExecRequest, gone <-chan struct{}) (*wire.ExecResult, error) {
	if req == nil || len(req.Process) == 0 {
		return nil, precondition("exec needs a process")
	}
	if st := c.snapshot(); st.Status != wire.StatusRunning {
		return nil, precondition("container %s is %s, not running", c.id, st.Status)
	}
	dir, err := os.MkdirTemp(c.req.Bundle, "exec-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	procFile, pidFile := filepath.Join(dir, "process.json"), filepath.Join(dir, "pid")
	if err := os.WriteFile(procFile, req.Process, 0o600); err != nil {
		return nil, err
	}
	limit := req.MaxOutput
	if limit <= 0 {
		limit = defaultMaxOutput
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		outR.Close()
		outW.Close()
		return nil, err
	}
	argv := runtimeOf(c.req).Exec(c.id, ociruntime.ExecOpts{ProcessFile: procFile, PidFile: pidFile})
	_, wait, err := s.reaper.start(argv, []*os.File{s.devNull, outW, errW})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		return nil, err
	}
	var stdout, stderr capped
	stdout.limit, stderr.limit = limit, limit
	var copies sync.WaitGroup
	copies.Add(2)
	go func() { defer copies.Done(); stdout.ReadFrom(outR); outR.Close() }()
	go func() { defer copies.Done(); stderr.ReadFrom(errR); errR.Close() }()

	res := &wire.ExecResult{}
	var timeout <-chan time.Time
	if req.Timeout > 0 {
		t := time.NewTimer(req.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case ws := <-wait:
		res.ExitCode = exitCode(ws)
	case <-timeout:
		res.TimedOut = true
		killUntilExit(pidFile, wait)
		res.ExitCode = -1
	case <-gone:
		killUntilExit(pidFile, wait)
		copies.Wait()
		return nil, fmt.Errorf("exec in %s: the caller went away; the process was killed", c.id)
	}
	copies.Wait()
	res.Stdout, res.Stderr = stdout.Bytes(), stderr.Bytes()
	if res.ExitCode != 0 && !res.TimedOut && len(res.Stdout) == 0 && strings.Contains(string(res.Stderr), "exec failed") {
		return nil, fmt.Errorf("exec in %s: %s", c.id, strings.TrimSpace(string(res.Stderr)))
	}
	return res, nil
}

// readPid reads a runtime's --pid-file.
func readPid(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// killUntilExit kills the exec'd process until the runtime's exec, which
// waits for it, has returned (wait fires): a process whose pid file was
// not written yet when it was first asked to die is killed once it is.
func killUntilExit[T any](pidFile string, wait <-chan T) T {
	for {
		killExec(pidFile)
		select {
		case ws := <-wait:
			return ws
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// killExec kills the exec'd process; runc exec then returns.
func killExec(pidFile string) {
	for i := 0; i < 50; i++ {
		if data, err := os.ReadFile(pidFile); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(data))); err == nil {
				unix.Kill(pid, unix.SIGKILL)
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// capped keeps the first limit bytes written and discards the rest, so a
// chatty process cannot block on a full pipe. (No embedded Buffer: its
// ReadFrom would let io.Copy bypass the cap.)
type capped struct {
	buf   bytes.Buffer
	limit int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// cappedRead is how much capped.ReadFrom asks for at a time: an exec
// probe's output is a line or two, and io.Copy's 32 KB buffer per stream
// was most of the garbage an ExecSync left in the shim.
const cappedRead = 512

// ReadFrom reads r to its end into the kept bytes, growing them as output
// comes, and discards what is past the limit.
func (c *capped) ReadFrom(r io.Reader) (int64, error) {
	var total int64
	var discard []byte
	for {
		var p []byte
		room := c.limit - c.buf.Len()
		if room > 0 {
			c.buf.Grow(min(room, cappedRead))
			p = c.buf.AvailableBuffer()
			p = p[:min(room, cap(p))]
		} else {
			if discard == nil {
				discard = make([]byte, 4<<10)
			}
			p = discard
		}
		n, err := r.Read(p)
		if n > 0 && room > 0 {
			c.buf.Write(p[:n]) // onto itself: AvailableBuffer's idiom
		}
		total += int64(n)
		if err == io.EOF {
			return total, nil
		}
		if err != nil {
			return total, err
		}
	}
}

// Bytes is what was kept.
func (c *capped) Bytes() []byte { return c.buf.Bytes() }
