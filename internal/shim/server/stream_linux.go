package server

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// serveStream runs an exec_stream or attach request: the JSON answer,
// then frames both ways until the process ends or the client leaves.
func (s *Server) serveStream(conn Conn, r *bufio.Reader, req *wire.Request) {
	enc := json.NewEncoder(conn)
	c, resp := s.lookup(req.ID)
	if resp == nil && (req.Stream == nil) {
		resp = failure(wire.CodeInvalidArgument, fmt.Errorf("%s needs a stream request", req.Op))
	}
	if resp == nil && c.snapshot().Status != wire.StatusRunning {
		resp = failure(wire.CodeFailedPrecondition, fmt.Errorf("container %s is not running", req.ID))
	}
	if resp != nil {
		enc.Encode(resp)
		return
	}
	fw := wire.NewFrameWriter(conn)
	if req.Op == wire.OpAttach {
		enc.Encode(&wire.Response{})
		c.attach(r, fw, req.Stream)
		return
	}
	p, err := s.startExec(c, req.Stream)
	if err != nil {
		enc.Encode(failure(wire.CodeFailedPrecondition, err))
		return
	}
	enc.Encode(&wire.Response{})
	p.run(r, fw)
}

// execProcess is one interactive exec.
type execProcess struct {
	dir     string
	pidFile string
	wait    <-chan unixWaitStatus
	stdin   *os.File          // nil without stdin
	console *os.File          // the pty master with a terminal
	outputs map[byte]*os.File // frame type -> our end of stdout/stderr
}

func (s *Server) startExec(c *container, req *wire.StreamRequest) (*execProcess, error) {
	dir, err := os.MkdirTemp(c.req.Bundle, "exec-")
	if err != nil {
		return nil, err
	}
	p := &execProcess{dir: dir, pidFile: filepath.Join(dir, "pid"), outputs: map[byte]*os.File{}}
	procFile := filepath.Join(dir, "process.json")
	if err := os.WriteFile(procFile, req.Process, 0o600); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	opts := ociruntime.ExecOpts{ProcessFile: procFile, PidFile: p.pidFile}
	files := []*os.File{s.devNull, s.devNull, s.devNull}
	var child []*os.File
	var cs *consoleSocket
	if req.Tty {
		if cs, err = newConsoleSocket(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		defer cs.close()
		// runc takes a console socket only when it detaches: the process
		// is then re-parented to the shim and watched by its PID.
		opts.Detach, opts.ConsoleSocket = true, cs.path
	} else {
		if child, err = p.pipes(req, files); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	_, wait, err := s.reaper.start(runtimeOf(c.req).Exec(c.id, opts), files)
	for _, f := range child {
		f.Close()
	}
	if err != nil {
		p.closeAll()
		return nil, err
	}
	p.wait = wait
	if cs != nil {
		if err := p.attachConsole(s, cs, wait, req.Stdin); err != nil {
			p.closeAll()
			return nil, err
		}
	}
	return p, nil
}

// attachConsole takes the pty master from the detached runtime and
// switches to waiting for the process itself.
func (p *execProcess) attachConsole(s *Server, cs *consoleSocket, runtimeDone <-chan unixWaitStatus, stdin bool) error {
	master, err := cs.receive(10 * time.Second)
	if err != nil {
		killExec(p.pidFile)
		<-runtimeDone
		return fmt.Errorf("receive exec console: %w", err)
	}
	if ws := <-runtimeDone; ws.ExitStatus() != 0 || ws.Signaled() {
		master.Close()
		return fmt.Errorf("exec with a terminal: runtime exited %d", exitCode(ws))
	}
	pid, err := readPid(p.pidFile)
	if err != nil {
		master.Close()
		return err
	}
	p.wait = s.reaper.watch(pid)
	p.console, p.outputs[wire.FrameStdout] = master, master
	if stdin {
		p.stdin = master
	}
	return nil
}

// pipes makes the stdio pipes of a non-terminal exec; files gets the
// process's ends, the returned list is what to close after the start.
func (p *execProcess) pipes(req *wire.StreamRequest, files []*os.File) ([]*os.File, error) {
	var child []*os.File
	if req.Stdin {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		files[0], p.stdin = r, w
		child = append(child, r)
	}
	for i, typ := range []byte{wire.FrameStdout, wire.FrameStderr} {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		files[i+1], p.outputs[typ] = w, r
		child = append(child, w)
	}
	return child, nil
}

// run pumps frames until the process exits, then sends its exit code. If
// the client goes away first, the process is killed: none outlives its
// session.
func (p *execProcess) run(r *bufio.Reader, fw *wire.FrameWriter) {
	defer p.closeAll()
	var copies sync.WaitGroup
	for typ, f := range p.outputs {
		copies.Add(1)
		go func() {
			defer copies.Done()
			io.Copy(fw.Stream(typ), f)
		}()
	}
	gone := make(chan struct{})
	go func() {
		pumpInput(r, p.stdin, p.console)
		close(gone)
	}()
	var ws unixWaitStatus
	select {
	case ws = <-p.wait:
	case <-gone:
		ws = killUntilExit(p.pidFile, p.wait)
	}
	drained := make(chan struct{})
	go func() { copies.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(logDrainTimeout):
	}
	fw.Write(wire.FrameExit, wire.ExitPayload(exitCode(ws)))
}

func (p *execProcess) closeAll() {
	for _, f := range p.outputs {
		f.Close()
	}
	if p.stdin != nil {
		p.stdin.Close()
	}
	os.RemoveAll(p.dir)
}

// pumpInput applies the client's frames (stdin data, stdin close, resize)
// until the connection ends.
func pumpInput(r *bufio.Reader, stdin, console *os.File) {
	var buf []byte
	for {
		typ, payload, err := wire.ReadFrameInto(r, &buf)
		if err != nil {
			return
		}
		switch typ {
		case wire.FrameStdin:
			if stdin != nil {
				stdin.Write(payload)
			}
		case wire.FrameStdinClose:
			if stdin != nil && stdin != console {
				stdin.Close()
			} else if stdin != nil {
				stdin.Write([]byte{4}) // ^D: end of input on a terminal
			}
		case wire.FrameResize:
			if w, h, err := wire.ParseResize(payload); err == nil && console != nil {
				unix.IoctlSetWinsize(int(console.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Col: w, Row: h})
			}
		}
	}
}

// attach streams the container's output to the client and its input to
// the container until the container exits or the client leaves.
func (c *container) attach(r *bufio.Reader, fw *wire.FrameWriter, req *wire.StreamRequest) {
	c.addAttacher(fw)
	defer func() {
		c.attachMu.Lock()
		delete(c.attachers, fw)
		c.attachMu.Unlock()
	}()
	c.mu.Lock()
	stdin, console := c.stdin, c.console
	c.mu.Unlock()
	if !req.Stdin {
		stdin = nil
	}
	gone := make(chan struct{})
	go func() {
		pumpInput(r, stdin, console)
		close(gone)
	}()
	select {
	case <-c.exited:
		fw.Write(wire.FrameExit, wire.ExitPayload(c.snapshot().ExitCode))
	case <-gone:
	}
}
