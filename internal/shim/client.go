// Package shim is berthd's client for berth-shim: it starts shims and
// calls them over the protocol of internal/shim/wire (whose messages its
// callers use as they are).
//
// One berth-shim runs per pod and monitors all its containers. It is the
// parent (subreaper) of their processes, holds their stdio, writes their
// CRI logs and records their exits durably, and it outlives berthd.
package shim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// Client talks to one berth-shim. Each call uses its own connection, so
// calls never wait behind each other (a Wait can block for days).
type Client struct {
	Dir    string // exit files, pid file, log
	Socket string // kept apart: unix socket paths are limited to 108 bytes
}

// ErrShimGone is returned when the shim's socket does not answer.
var ErrShimGone = errors.New("shim is not running")

// Spawn starts a berth-shim for dir, detached from berthd (its own session,
// so it survives berthd), and waits until it serves.
func Spawn(binary, dir, socket string) (*Client, error) {
	if len(socket) >= 108 {
		return nil, fmt.Errorf("shim socket path %q is too long for a unix socket", socket)
	}
	if err := os.MkdirAll(filepath.Dir(socket), 0o700); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	logFile, err := os.OpenFile(filepath.Join(dir, wire.LogName), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	readyR, readyW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer readyR.Close()
	cmd := exec.Command(binary, "--dir", dir, "--socket", socket)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.ExtraFiles = []*os.File{readyW}
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1", "GODEBUG=madvdontneed=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		readyW.Close()
		return nil, fmt.Errorf("start berth-shim: %w", err)
	}
	readyW.Close()
	// berthd reaps the shim if it exits while berthd lives; after a berthd
	// restart, init does.
	go cmd.Wait()
	readyR.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := bufio.NewReader(readyR).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		log, _ := os.ReadFile(filepath.Join(dir, wire.LogName))
		return nil, fmt.Errorf("berth-shim did not start: %v: %s", err, strings.TrimSpace(string(log)))
	}
	return &Client{Dir: dir, Socket: socket}, nil
}

// Pid returns the shim's PID from its pid file.
func (c *Client) Pid() (int, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, wire.PidName))
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(string(data)))
}

// Alive tells whether the shim answers on its socket.
func (c *Client) Alive() bool {
	conn, err := net.DialTimeout("unix", c.Socket, time.Second)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func (c *Client) call(ctx context.Context, req *wire.Request) (*wire.Response, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Write(append(data, '\n')); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrShimGone, err)
	}
	// One answer per connection: decoded as it is read (a kept 64 KB
	// read buffer was 64 KB of garbage in berthd per call).
	var resp wire.Response
	if err := json.NewDecoder(conn).Decode(&resp); err != nil {
		var syntax *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case ctx.Err() != nil:
			return nil, ctx.Err()
		case errors.As(err, &syntax), errors.As(err, &typ):
			return nil, fmt.Errorf("shim answer: %w", err)
		}
		return nil, fmt.Errorf("%w: %v", ErrShimGone, err)
	}
	if resp.Err != "" {
		return nil, responseError(&resp)
	}
	return &resp, nil
}

// answerError is an error the shim answered with (not one of reaching it).
type answerError struct {
	msg   string
	class error
}

func (e *answerError) Error() string {
	if e.class == nil {
		return e.msg
	}
	return e.msg + ": " + e.class.Error()
}
func (e *answerError) Unwrap() error { return e.class }

func responseError(r *wire.Response) error {
	class := map[string]error{
		wire.CodeNotFound: errdefs.ErrNotFound, wire.CodeAlreadyExists: errdefs.ErrAlreadyExists,
		wire.CodeFailedPrecondition: errdefs.ErrFailedPrecondition, wire.CodeInvalidArgument: errdefs.ErrInvalidArgument,
	}[r.Code]
	return &answerError{msg: r.Err, class: class}
}

// Version asks the shim which protocol it speaks: wire.Version for a shim
// of this build, 1 for one from before the protocol had versions.
func (c *Client) Version(ctx context.Context) (int, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpVersion})
	var answered *answerError
	if errors.As(err, &answered) {
		// Protocol 1 shims answer the op they do not know with an error
		// (not_found: they look its empty ID up first).
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return resp.Version, nil
}

// Create creates a container from an OCI bundle; it does not start it.
func (c *Client) Create(ctx context.Context, id string, req *wire.CreateRequest) (*wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpCreate, ID: id, Create: req})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// Restore creates container id running, from the CRIU images req.Restore
// names (protocol 4: an older shim answers IsUnknownOp).
func (c *Client) Restore(ctx context.Context, id string, req *wire.CreateRequest) (*wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpRestore, ID: id, Create: req})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// Start starts a created container and returns its state then (nil from
// a shim before protocol 5, which answered with nothing: ask State).
func (c *Client) Start(ctx context.Context, id string) (*wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpStart, ID: id})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// Kill sends sig to the container's process.
func (c *Client) Kill(ctx context.Context, id string, sig syscall.Signal) error {
	_, err := c.call(ctx, &wire.Request{Op: wire.OpKill, ID: id, Signal: int(sig)})
	return err
}

// Delete removes the container from the runtime, killing it if it runs.
func (c *Client) Delete(ctx context.Context, id string) (*wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpDelete, ID: id})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// State returns what the shim knows of the container.
func (c *Client) State(ctx context.Context, id string) (*wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpState, ID: id})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// List returns the state of every container of the shim.
func (c *Client) List(ctx context.Context) ([]wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpList})
	if err != nil {
		return nil, err
	}
	return resp.States, nil
}

// Wait blocks until the container exits (or ctx ends).
func (c *Client) Wait(ctx context.Context, id string) (*wire.State, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpWait, ID: id})
	if err != nil {
		return nil, err
	}
	return resp.State, nil
}

// Exec runs a process (OCI runtime-spec JSON) in the container.
func (c *Client) Exec(ctx context.Context, id string, req *wire.ExecRequest) (*wire.ExecResult, error) {
	resp, err := c.call(ctx, &wire.Request{Op: wire.OpExec, ID: id, Exec: req})
	if err != nil {
		return nil, err
	}
	return resp.Exec, nil
}

// ReopenLog makes the shim reopen the container's log file.
func (c *Client) ReopenLog(ctx context.Context, id string) error {
	_, err := c.call(ctx, &wire.Request{Op: wire.OpReopen, ID: id})
	return err
}

// Update gives a container new resources (an OCI LinuxResources as JSON)
// through its runtime. Shims before protocol 3 do not know the op: see
// IsUnknownOp.
func (c *Client) Update(ctx context.Context, id string, resources []byte) error {
	_, err := c.call(ctx, &wire.Request{Op: wire.OpUpdate, ID: id, Update: resources})
	return err
}

// IsUnknownOp tells whether a shim answered that it does not know the op
// (a shim of an older protocol).
func IsUnknownOp(err error) bool {
	return err != nil && errdefs.Is(err, errdefs.ErrInvalidArgument) && strings.Contains(err.Error(), "unknown op")
}

// Shutdown asks the shim to exit once it holds no container.
func (c *Client) Shutdown(ctx context.Context) error {
	_, err := c.call(ctx, &wire.Request{Op: wire.OpShutdown})
	return err
}

// ReadExitFile returns the exit the shim recorded for id, if any.
func (c *Client) ReadExitFile(id string) (*wire.State, error) {
	data, err := os.ReadFile(filepath.Join(c.Dir, wire.ExitFileName(id)))
	if err != nil {
		return nil, err
	}
	var st wire.State
	return &st, json.Unmarshal(data, &st)
}

// ReadLogLoss reads what the container's log could not keep so far (none:
// zero).
func (c *Client) ReadLogLoss(id string) wire.LogLoss {
	var loss wire.LogLoss
	if data, err := os.ReadFile(filepath.Join(c.Dir, wire.LogLossFileName(id))); err == nil {
		_ = json.Unmarshal(data, &loss)
	}
	return loss
}
