package server

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// Server is one berth-shim: the monitor of one pod's containers.
type Server struct {
	dir     string
	reaper  *reaper
	devNull *os.File
	logf    func(format string, args ...any)

	mu         sync.Mutex
	containers map[string]*container
	shutdown   bool
	done       chan struct{}

	idleTimer *time.Timer
	idleDelay time.Duration
	onBusy    func()
}

// busy postpones the idle hook and tells the busy one.
func (s *Server) busy() {
	s.mu.Lock()
	if s.idleTimer != nil {
		s.idleTimer.Reset(s.idleDelay)
	}
	s.mu.Unlock()
	if s.onBusy != nil {
		s.onBusy()
	}
}

// Idle is what a shim does once no request has come for Delay (and again
// after each later burst of requests), and on each request: berth-shim
// collects its garbage and gives memory back.
type Idle struct {
	Delay time.Duration
	Do    func()
	// Busy, if set, is called on each request.
	Busy func()
}

// New prepares a shim serving from dir (its socket, exit files and log),
// calling idle.Do when it is idle (if set).
func New(dir string, logf func(string, ...any), idle Idle) (*Server, error) {
	devNull, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	s := &Server{dir: dir, reaper: newReaper(), devNull: devNull, logf: logf,
		containers: map[string]*container{}, done: make(chan struct{})}
	if idle.Do != nil {
		s.idleTimer, s.idleDelay = time.AfterFunc(idle.Delay, idle.Do), idle.Delay
	}
	s.onBusy = idle.Busy
	return s, nil
}

// Serve answers requests on l until a shutdown request finds no container
// left. It returns when the shim should exit.
func (s *Server) Serve(l *Listener) error {
	go func() {
		<-s.done
		l.Close()
	}()
	for {
		conn, err := l.Accept()
		if err != nil {
			select {
			case <-s.done:
				return nil
			default:
			}
			return err
		}
		go s.handle(conn)
	}
}

// Done is closed when the shim has been asked to shut down and is empty.
func (s *Server) Done() <-chan struct{} { return s.done }

func (s *Server) handle(conn Conn) {
	defer conn.Close()
	r := bufio.NewReader(conn)
	enc := json.NewEncoder(conn)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return
		}
		s.busy()
		var req wire.Request
		var resp *wire.Response
		if err := json.Unmarshal(line, &req); err != nil {
			resp = failure(wire.CodeInvalidArgument, fmt.Errorf("bad request: %w", err))
		} else if req.Op == wire.OpExecStream || req.Op == wire.OpAttach {
			s.serveStream(conn, r, &req) // the connection is the stream's now
			s.busy()                     // the idle trim counts from its end
			return
		} else {
			resp = s.dispatch(&req, conn)
		}
		if enc.Encode(resp) != nil {
			return
		}
		s.busy()
	}
}

func (s *Server) dispatch(req *wire.Request, conn Conn) *wire.Response {
	switch req.Op {
	case wire.OpCreate:
		if req.Create != nil && req.Create.Restore != nil {
			return failure(wire.CodeInvalidArgument, fmt.Errorf("a restore is op %q", wire.OpRestore))
		}
		return s.create(req.ID, req.Create)
	case wire.OpRestore:
		if req.Create == nil || req.Create.Restore == nil {
			return failure(wire.CodeInvalidArgument, fmt.Errorf("restore needs a create request with its restore"))
		}
		return s.create(req.ID, req.Create)
	case wire.OpList:
		return s.list()
	case wire.OpShutdown:
		return s.requestShutdown()
	case wire.OpVersion:
		return &wire.Response{Version: wire.Version}
	}
	c, resp := s.lookup(req.ID)
	if resp != nil {
		return resp
	}
	switch req.Op {
	case wire.OpStart:
		if err := c.start(s); err != nil {
			return failure("", err)
		}
		st := c.snapshot() // one round trip less for berthd (protocol 5)
		return &wire.Response{State: &st}
	case wire.OpKill:
		return result(c.kill(req.Signal))
	case wire.OpDelete:
		return s.delete(c)
	case wire.OpState:
		st := c.snapshot()
		return &wire.Response{State: &st}
	case wire.OpWait:
		return c.wait(conn)
	case wire.OpExec:
		res, err := c.exec(s, req.Exec, callerGone(conn))
		if err != nil {
			return failure(wire.CodeFailedPrecondition, err)
		}
		return &wire.Response{Exec: res}
	case wire.OpReopen:
		return result(c.log.reopen())
	case wire.OpUpdate:
		return result(c.update(s, req.Update))
	}
	return failure(wire.CodeInvalidArgument, fmt.Errorf("unknown op %q", req.Op))
}

func (s *Server) lookup(id string) (*container, *wire.Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.containers[id]
	if !ok {
		return nil, failure(wire.CodeNotFound, fmt.Errorf("container %s not found in shim", id))
	}
	return c, nil
}

func (s *Server) list() *wire.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	resp := &wire.Response{States: []wire.State{}}
	for _, c := range s.containers {
		resp.States = append(resp.States, c.snapshot())
	}
	return resp
}

func (s *Server) requestShutdown() *wire.Response {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shutdown = true
	s.maybeExitLocked()
	return &wire.Response{}
}

// maybeExitLocked ends the shim once it was asked to and holds nothing.
func (s *Server) maybeExitLocked() {
	if s.shutdown && len(s.containers) == 0 {
		select {
		case <-s.done:
		default:
			close(s.done)
		}
	}
}

func (s *Server) exitFile(id string) string { return filepath.Join(s.dir, wire.ExitFileName(id)) }

func result(err error) *wire.Response {
	if err != nil {
		return failure("", err)
	}
	return &wire.Response{}
}

func failure(code string, err error) *wire.Response {
	var ce *codedError
	if errors.As(err, &ce) {
		code = ce.code
	}
	return &wire.Response{Err: err.Error(), Code: code}
}

// codedError carries a protocol error code.
type codedError struct {
	code string
	err  error
}

func (e *codedError) Error() string { return e.err.Error() }
func (e *codedError) Unwrap() error { return e.err }

func precondition(format string, args ...any) error {
	return &codedError{code: wire.CodeFailedPrecondition, err: fmt.Errorf(format, args...)}
}
