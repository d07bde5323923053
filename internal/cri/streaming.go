package cri

import (
	"context"
	"fmt"
	"io"
	"time"

	remotecommand "k8s.io/cri-streaming/pkg/streaming/remotecommand"
	utilexec "k8s.io/utils/exec"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/shim"
)

// StreamRuntime serves the streaming server's sessions (k8s.io/cri-streaming's
// Runtime) with berth's containers and pods.
type StreamRuntime struct {
	Containers *container.Manager
	Pods       *pod.Manager
}

// Exec runs an interactive command; a non-zero exit reaches the client as
// its exit code.
func (r *StreamRuntime) Exec(ctx context.Context, id string, cmd []string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	ctx, cancel := whileConnected(ctx, out, errw)
	defer cancel()
	o := container.StreamOptions{Tty: tty, IO: streamIO(in, out, errw, resize)}
	if tty {
		o.InitialSize = firstSize(o.IO.Resize)
	}
	code, err := r.Containers.ExecStream(ctx, id, cmd, o)
	return exitError(code, err)
}

// Attach connects to a container's stdio.
func (r *StreamRuntime) Attach(ctx context.Context, id string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	ctx, cancel := whileConnected(ctx, out, errw)
	defer cancel()
	_, err := r.Containers.Attach(ctx, id, container.StreamOptions{Tty: tty, IO: streamIO(in, out, errw, resize)})
	return err
}

// probeInterval is how often a session checks that its client is there.
const probeInterval = time.Second

// whileConnected returns a context cancelled when the client has gone: the
// request's context is not, once the connection was upgraded, so an empty
// write to an output stream (harmless to clients) probes it. Cancelling
// ends the session and the shim kills an exec'd process.
func whileConnected(ctx context.Context, outs ...io.WriteCloser) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	var probe io.Writer
	for _, w := range outs {
		if w != nil {
			probe = w
			break
		}
	}
	if probe == nil {
		return ctx, cancel
	}
	go func() {
		t := time.NewTicker(probeInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := probe.Write(nil); err != nil {
					cancel()
					return
				}
			}
		}
	}()
	return ctx, cancel
}

// initialSizeWait bounds the wait for the client's first terminal size,
// which it sends as soon as the session opens: starting the process with
// it saves programs from starting on a 0x0 terminal.
const initialSizeWait = 300 * time.Millisecond

func firstSize(sizes <-chan shim.TerminalSize) *shim.TerminalSize {
	if sizes == nil {
		return nil
	}
	select {
	case s, ok := <-sizes:
		if ok {
			return &s
		}
	case <-time.After(initialSizeWait):
	}
	return nil
}

// PortForward connects a stream to a port inside the pod.
func (r *StreamRuntime) PortForward(ctx context.Context, podID string, port int32, stream io.ReadWriteCloser) error {
	return r.Pods.PortForward(ctx, podID, port, stream)
}

func exitError(code int32, err error) error {
	if err != nil {
		return err
	}
	if code != 0 {
		return utilexec.CodeExitError{Err: fmt.Errorf("command terminated with exit code %d", code), Code: int(code)}
	}
	return nil
}

// streamIO adapts the library's streams; absent ones stay nil interfaces.
func streamIO(in io.Reader, out, errw io.WriteCloser, resize <-chan remotecommand.TerminalSize) shim.StreamIO {
	sio := shim.StreamIO{Stdin: in}
	if out != nil {
		sio.Stdout = out
	}
	if errw != nil {
		sio.Stderr = errw
	}
	if resize != nil {
		sizes := make(chan shim.TerminalSize)
		go func() {
			defer close(sizes)
			for s := range resize {
				sizes <- shim.TerminalSize{Width: s.Width, Height: s.Height}
			}
		}()
		sio.Resize = sizes
	}
	return sio
}
