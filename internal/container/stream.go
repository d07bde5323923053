package container

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// StreamOptions are the client's side of an exec or attach session.
type StreamOptions struct {
	Tty    bool
	IO     shim.StreamIO
	Stdin  bool
	Stdout bool
	Stderr bool
	// InitialSize, for a terminal, is the size the process starts with.
	InitialSize *shim.TerminalSize
}

// CheckExec validates an Exec request before a streaming URL is handed out.
func (m *Manager) CheckExec(id string, cmd []string) error {
	if len(cmd) == 0 {
		return errdefs.InvalidArgument("exec command is empty")
	}
	return m.checkRunning(id)
}

// CheckAttach validates an Attach request.
func (m *Manager) CheckAttach(id string) error { return m.checkRunning(id) }

func (m *Manager) checkRunning(id string) error {
	c, err := m.Get(id)
	if err != nil {
		return err
	}
	if c.State != StateRunning {
		return errdefs.FailedPrecondition("container %s is %s, not running", c.ID, c.State)
	}
	return nil
}

// ExecStream runs cmd interactively in a running container and returns
// its exit code. Cancelling ctx kills the process.
func (m *Manager) ExecStream(ctx context.Context, id string, cmd []string, o StreamOptions) (int32, error) {
	if err := m.CheckExec(id, cmd); err != nil {
		return -1, err
	}
	c, err := m.Get(id)
	if err != nil {
		return -1, err
	}
	proc, err := streamProcess(c, cmd, o.Tty, o.InitialSize)
	if err != nil {
		return -1, err
	}
	client, err := m.shimOf(c)
	if err != nil {
		return -1, err
	}
	return client.Stream(ctx, wire.OpExecStream, c.ID, &wire.StreamRequest{Process: proc, Tty: o.Tty, Stdin: o.IO.Stdin != nil}, o.IO)
}

// Attach connects to a running container's stdio until it exits or ctx
// ends. Stdin reaches the container only if it was created with stdin.
func (m *Manager) Attach(ctx context.Context, id string, o StreamOptions) (int32, error) {
	if err := m.CheckAttach(id); err != nil {
		return -1, err
	}
	c, err := m.Get(id)
	if err != nil {
		return -1, err
	}
	if !c.Config().GetStdin() {
		o.IO.Stdin = nil
	}
	client, err := m.shimOf(c)
	if err != nil {
		return -1, err
	}
	return client.Stream(ctx, wire.OpAttach, c.ID, &wire.StreamRequest{Tty: c.Config().GetTty(), Stdin: o.IO.Stdin != nil}, o.IO)
}

// streamProcess is the container's process running cmd, with a terminal
// if asked (and TERM set, as a shell expects).
func streamProcess(c *Container, cmd []string, tty bool, size *shim.TerminalSize) ([]byte, error) {
	if !tty {
		return execProcess(c, cmd)
	}
	p, err := processOf(c, cmd, true)
	if err != nil {
		return nil, err
	}
	if size != nil {
		box, err := json.Marshal(map[string]uint16{"height": size.Height, "width": size.Width})
		if err != nil {
			return nil, err
		}
		p["consoleSize"] = box
	}
	var env []string
	if raw, ok := p["env"]; ok {
		if err := json.Unmarshal(raw, &env); err != nil {
			return nil, fmt.Errorf("spec of %s: process env: %w", c.ID, err)
		}
	}
	if !slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, "TERM=") }) {
		envJSON, err := json.Marshal(append(env, "TERM=xterm"))
		if err != nil {
			return nil, err
		}
		p["env"] = envJSON
	}
	return json.Marshal(p)
}
