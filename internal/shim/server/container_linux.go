package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// logDrainTimeout bounds how long an exit waits for the last output: a
// process the container forked may keep its stdout open forever.
const logDrainTimeout = 2 * time.Second

// container is one container the shim monitors.
type container struct {
	id  string
	req wire.CreateRequest
	log *criLog

	mu      sync.Mutex
	state   wire.State
	stdin   *os.File // our end of the container's stdin, when it has one
	console *os.File // the pty master of a container with a terminal
	exited  chan struct{}
	reaped  chan struct{} // closed once its init is reaped, before its output is drained
	// created is closed once the runtime's create returned, either way:
	// a delete that arrives meanwhile (berthd undoing a creation a crash
	// cut off) waits for it rather than racing the runtime.
	created chan struct{}
	failed  bool // the create failed; the container is not in the shim

	attachMu  sync.Mutex
	attachers map[*wire.FrameWriter]struct{}
	// early holds the output of an interactive (stdin_once) container
	// until its first client attaches, which then sees it from the start:
	// `run -it` and `kubectl run -it` attach only after the start, when a
	// shell has printed its prompt already.
	early    []frame
	earlyLen int
	attached bool
}

// frame is one chunk of output kept for the first attach.
type frame struct {
	typ  byte
	data []byte
}

// maxEarly bounds the output kept for the first attach.
const maxEarly = 64 << 10

// broadcast gives output to every attached client. A client that cannot
// keep up is dropped rather than allowed to stall the container.
func (c *container) broadcast(stream string, data []byte) {
	typ := wire.FrameStdout
	if stream == "stderr" {
		typ = wire.FrameStderr
	}
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	if !c.attached && c.req.StdinOnce && c.earlyLen+len(data) <= maxEarly {
		c.early = append(c.early, frame{typ, append([]byte(nil), data...)})
		c.earlyLen += len(data)
	}
	for w := range c.attachers {
		if err := w.Write(typ, data); err != nil {
			delete(c.attachers, w)
		}
	}
}

// addAttacher makes fw receive the container's output from now on; the
// first client gets what an interactive container wrote before it came.
func (c *container) addAttacher(fw *wire.FrameWriter) {
	c.attachMu.Lock()
	defer c.attachMu.Unlock()
	if c.attachers == nil {
		c.attachers = map[*wire.FrameWriter]struct{}{}
	}
	if !c.attached {
		for _, f := range c.early {
			fw.Write(f.typ, f.data)
		}
		c.attached, c.early, c.earlyLen = true, nil, 0
	}
	c.attachers[fw] = struct{}{}
}

func (c *container) snapshot() wire.State {
	c.mu.Lock()
	st := c.state
	log := c.log
	c.mu.Unlock()
	if log != nil {
		if lines, bytes := log.lossTotals(); lines > 0 {
			st.LogLost = &wire.LogLoss{Lines: lines, Bytes: bytes}
		}
	}
	return st
}

// stdio is what the container's process gets as fds 0-2, and our ends.
type stdio struct {
	child   []*os.File // given to the runtime, closed by us after create
	readers map[string]*os.File
	stdin   *os.File
	console *consoleSocket
}

func (s *stdio) closeChild() {
	for _, f := range s.child {
		if f != nil {
			f.Close()
		}
	}
}

func (s *stdio) closeAll() {
	s.closeChild()
	for _, f := range s.readers {
		f.Close()
	}
	if s.stdin != nil {
		s.stdin.Close()
	}
	if s.console != nil {
		s.console.close()
	}
}

func (s *Server) create(id string, req *wire.CreateRequest) *wire.Response {
	if id == "" || req == nil || req.Bundle == "" || req.Runtime == "" {
		return failure(wire.CodeInvalidArgument, fmt.Errorf("create needs an id, a bundle and a runtime"))
	}
	s.mu.Lock()
	if _, ok := s.containers[id]; ok {
		s.mu.Unlock()
		return failure(wire.CodeAlreadyExists, fmt.Errorf("container %s already exists in shim", id))
	}
	if s.shutdown {
		s.mu.Unlock()
		return failure(wire.CodeFailedPrecondition, fmt.Errorf("shim is shutting down"))
	}
	c := &container{id: id, req: *req, exited: make(chan struct{}), reaped: make(chan struct{}), created: make(chan struct{}),
		state: wire.State{ID: id, Status: wire.StatusCreated}}
	s.containers[id] = c // reserve the id while the runtime works
	s.mu.Unlock()

	if err := s.createContainer(c); err != nil {
		s.mu.Lock()
		delete(s.containers, id)
		s.mu.Unlock()
		c.failed = true
		close(c.created)
		return failure("", err)
	}
	close(c.created)
	st := c.snapshot()
	return &wire.Response{State: &st}
}

func (s *Server) createContainer(c *container) error {
	log, err := openCRILog(c.req.LogPath)
	if err != nil {
		return fmt.Errorf("open log %s: %w", c.req.LogPath, err)
	}
	c.log = log
	lossFile := filepath.Join(s.dir, wire.LogLossFileName(c.id))
	log.onLoss = func(lines, bytes uint64) {
		if err := writeFileSync(lossFile, wire.LogLoss{Lines: lines, Bytes: bytes}); err != nil {
			s.logf("record log loss of %s: %v", c.id, err)
		}
	}
	io, err := s.newStdio(c.req)
	if err != nil {
		log.close()
		return err
	}
	startedAt := time.Now().UTC()
	pid, err := s.runtimeCreate(c, io)
	if err != nil {
		io.closeAll()
		log.close()
		return err
	}
	io.closeChild()
	c.mu.Lock()
	c.state.Pid = pid
	if c.req.Restore != nil { // restored processes run on from where they were
		c.state.Status, c.state.StartedAt = wire.StatusRunning, startedAt
	}
	c.stdin = io.stdin
	c.mu.Unlock()
	copiers := &sync.WaitGroup{}
	if io.console != nil {
		master, err := io.console.receive(10 * time.Second)
		if err != nil {
			s.run(nil, "delete", runtimeOf(c.req).Delete(c.id, true))
			io.closeAll()
			log.close()
			return fmt.Errorf("receive console: %w", err)
		}
		io.console.close()
		io.readers["stdout"] = master
		c.mu.Lock()
		c.console = master
		if c.req.Stdin {
			c.stdin = master
		}
		c.mu.Unlock()
	}
	for stream, r := range io.readers {
		copiers.Add(1)
		go func() {
			defer copiers.Done()
			log.copyStream(stream, r, c.broadcast)
			if io.console == nil {
				r.Close()
			}
		}()
	}
	go s.monitor(c, s.reaper.watch(pid), copiers)
	return nil
}

func (s *Server) newStdio(req wire.CreateRequest) (*stdio, error) {
	io := &stdio{readers: map[string]*os.File{}}
	if req.Terminal {
		cs, err := newConsoleSocket()
		if err != nil {
			return nil, err
		}
		io.console = cs
		io.child = []*os.File{nil, nil, nil} // the runtime wires the pty itself
		return io, nil
	}
	io.child = make([]*os.File, 3)
	if req.Stdin {
		r, w, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		io.child[0], io.stdin = r, w
	}
	for i, stream := range []string{"stdout", "stderr"} {
		r, w, err := os.Pipe()
		if err != nil {
			io.closeAll()
			return nil, err
		}
		io.child[i+1], io.readers[stream] = w, r
	}
	return io, nil
}

// runtimeCreate runs `runtime create` and returns the container's PID.
func (s *Server) runtimeCreate(c *container, io *stdio) (int, error) {
	pidFile := filepath.Join(c.req.Bundle, "init.pid")
	logFile := filepath.Join(c.req.Bundle, "runtime.log")
	opts := ociruntime.CreateOpts{Bundle: c.req.Bundle, PidFile: pidFile, LogFile: logFile}
	if io.console != nil {
		opts.ConsoleSocket = io.console.path
	}
	argv := runtimeOf(c.req).Create(c.id, opts)
	if r := c.req.Restore; r != nil {
		argv = runtimeOf(c.req).Restore(c.id, ociruntime.RestoreOpts{
			Bundle: opts.Bundle, PidFile: pidFile, LogFile: logFile, ConsoleSocket: opts.ConsoleSocket,
			ImagePath: r.ImagePath, WorkPath: r.WorkPath, Criu: r.Criu,
		})
	}
	files := make([]*os.File, 3)
	for i, f := range io.child {
		if f == nil {
			f = s.devNull
		}
		files[i] = f
	}
	_, wait, err := s.reaper.start(argv, files)
	if err != nil {
		return 0, fmt.Errorf("start %s: %w", c.req.Runtime, err)
	}
	if ws := <-wait; ws.ExitStatus() != 0 || ws.Signaled() {
		verb := "create"
		if c.req.Restore != nil {
			verb = "restore"
		}
		return 0, fmt.Errorf("%s %s: %s", filepath.Base(c.req.Runtime), verb, lastRuntimeError(logFile, ws))
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		return 0, fmt.Errorf("read pid file: %w", err)
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// lastRuntimeError reads the last error runc or crun wrote to its JSON log.
func lastRuntimeError(logFile string, ws syscall.WaitStatus) string {
	data, _ := os.ReadFile(logFile)
	msg := ""
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var entry struct{ Level, Msg string }
		if json.Unmarshal([]byte(line), &entry) == nil && (entry.Level == "error" || entry.Level == "fatal") {
			msg = entry.Msg
		}
	}
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", ws.ExitStatus())
	}
	return msg
}

// monitor waits for the container's process to end, lets its output drain,
// and records the exit durably before anyone is told.
func (s *Server) monitor(c *container, wait <-chan syscall.WaitStatus, copiers *sync.WaitGroup) {
	ws := <-wait
	close(c.reaped)
	exitedAt := time.Now().UTC()
	drained := make(chan struct{})
	go func() { copiers.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(logDrainTimeout):
	}
	oom := oomKilled(c.req.CgroupPath)
	c.mu.Lock()
	c.state.Status = wire.StatusExited
	c.state.ExitCode = exitCode(ws)
	c.state.ExitedAt = exitedAt
	c.state.OOMKilled = oom
	st := c.state
	if lines, bytes := c.log.lossTotals(); lines > 0 {
		st.LogLost = &wire.LogLoss{Lines: lines, Bytes: bytes}
	}
	if c.stdin != nil {
		c.stdin.Close()
		c.stdin = nil
	}
	if c.console != nil {
		c.console.Close()
		c.console = nil
	}
	c.mu.Unlock()
	if err := writeFileSync(s.exitFile(c.id), st); err != nil {
		s.logf("record exit of %s: %v", c.id, err)
	}
	close(c.exited)
}

func (c *container) start(s *Server) error {
	c.mu.Lock()
	status := c.state.Status
	c.mu.Unlock()
	if status != wire.StatusCreated {
		return precondition("container %s is %s, not created", c.id, status)
	}
	startedAt := time.Now().UTC() // the process may exit before the runtime returns
	rt := runtimeOf(c.req)
	err := rt.StartThroughFifo(c.id, c.req.Bundle, func() bool { return c.initAlive() })
	if errors.Is(err, ociruntime.ErrNoFifoStart) {
		err = s.run(nil, "start", rt.Start(c.id))
	}
	if err != nil {
		return err
	}
	c.mu.Lock()
	if c.state.Status == wire.StatusCreated {
		c.state.Status = wire.StatusRunning
	}
	c.state.StartedAt = startedAt
	c.mu.Unlock()
	return nil
}

// initAlive tells whether the container's init process still runs.
func (c *container) initAlive() bool {
	c.mu.Lock()
	pid, status := c.state.Pid, c.state.Status
	c.mu.Unlock()
	return pid > 0 && status != wire.StatusExited && unix.Kill(pid, 0) == nil
}

// update gives a running container new resources through its runtime
// (runc update --resources -, reading them from stdin).
func (c *container) update(s *Server, resources []byte) error {
	if len(resources) == 0 {
		return &codedError{wire.CodeInvalidArgument, fmt.Errorf("update of %s carries no resources", c.id)}
	}
	c.mu.Lock()
	status := c.state.Status
	c.mu.Unlock()
	if status == wire.StatusExited {
		return precondition("container %s has exited", c.id)
	}
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return err
	}
	go func() {
		stdinW.Write(resources)
		stdinW.Close()
	}()
	defer stdinR.Close()
	return s.run([]*os.File{stdinR, s.devNull, nil}, "update", runtimeOf(c.req).Update(c.id))
}

func (c *container) kill(sig int) error {
	c.mu.Lock()
	pid, status := c.state.Pid, c.state.Status
	c.mu.Unlock()
	if status == wire.StatusExited || pid <= 0 {
		return nil
	}
	if sig == 0 {
		sig = int(unix.SIGKILL)
	}
	if err := unix.Kill(pid, unix.Signal(sig)); err != nil && err != unix.ESRCH {
		return fmt.Errorf("signal %d to %s: %w", sig, c.id, err)
	}
	return nil
}

// createWait bounds how long a delete waits for a create in progress.
const createWait = time.Minute

// killReapWait bounds how long a delete waits for a killed container's
// exit before it leaves the rest to the runtime.
const killReapWait = 2 * time.Second

// delete removes the container from the runtime (killing it if needed)
// and forgets it.
func (s *Server) delete(c *container) *wire.Response {
	select {
	case <-c.created:
	case <-time.After(createWait):
		return failure("", fmt.Errorf("container %s: its creation did not finish in %s", c.id, createWait))
	}
	if c.failed {
		return failure(wire.CodeNotFound, fmt.Errorf("container %s not found in shim (its creation failed)", c.id))
	}
	// Kill a live container ourselves and see it reaped first: runc's
	// delete --force of a running container polls every 100 ms for it to
	// go, a stopped one it deletes at once. (It still kills whatever else
	// runs in the container's cgroup.)
	if c.kill(int(unix.SIGKILL)) == nil {
		select {
		case <-c.reaped:
		case <-time.After(killReapWait):
		}
	}
	if err := s.run(nil, "delete", runtimeOf(c.req).Delete(c.id, true)); err != nil {
		if !strings.Contains(err.Error(), "not exist") && !strings.Contains(err.Error(), "not found") {
			return failure("", err)
		}
	}
	select {
	case <-c.exited:
	case <-time.After(10 * time.Second):
		return failure("", fmt.Errorf("container %s did not exit after delete", c.id))
	}
	c.log.close()
	os.Remove(s.exitFile(c.id))
	os.Remove(filepath.Join(s.dir, wire.LogLossFileName(c.id)))
	s.mu.Lock()
	delete(s.containers, c.id)
	s.maybeExitLocked()
	s.mu.Unlock()
	st := c.snapshot()
	return &wire.Response{State: &st}
}

// callerGone is closed when the client of a call hangs up (berthd gave
// up on the call, or died). The client sends nothing after its request.
func callerGone(conn Conn) <-chan struct{} {
	gone := make(chan struct{})
	go func() {
		var b [1]byte
		conn.Read(b[:]) // returns when the client closes the connection
		close(gone)
	}()
	return gone
}

// wait answers when the container has exited, or gives up when the caller
// hangs up.
func (c *container) wait(conn Conn) *wire.Response {
	gone := callerGone(conn)
	select {
	case <-c.exited:
		st := c.snapshot()
		return &wire.Response{State: &st}
	case <-gone:
		return &wire.Response{Err: "caller went away"}
	}
}

// oomKilled tells whether the kernel's OOM killer struck in the cgroup
// (cgroup v2 memory.events, else v1 memory.oom_control).
func oomKilled(cgroup string) bool {
	if cgroup == "" {
		return false
	}
	for _, f := range []string{
		filepath.Join("/sys/fs/cgroup", cgroup, "memory.events"),
		filepath.Join("/sys/fs/cgroup/unified", cgroup, "memory.events"),
		filepath.Join("/sys/fs/cgroup/memory", cgroup, "memory.oom_control"),
	} {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(data), "\n") {
			if v, ok := strings.CutPrefix(line, "oom_kill "); ok && strings.TrimSpace(v) != "0" {
				return true
			}
		}
	}
	return false
}

// writeFileSync writes v as JSON to path atomically and durably.
func writeFileSync(path string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return os.Rename(tmp, path)
}
