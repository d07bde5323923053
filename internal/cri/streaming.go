package cri

import (
	"context"
	"fmt"
	"io"

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
	code, err := r.Containers.ExecStream(ctx, id, cmd, container.StreamOptions{Tty: tty, IO: streamIO(in, out, errw, resize)})
	return exitError(code, err)
}

// Attach connects to a container's stdio.
func (r *StreamRuntime) Attach(ctx context.Context, id string, in io.Reader, out, errw io.WriteCloser, tty bool, resize <-chan remotecommand.TerminalSize) error {
	_, err := r.Containers.Attach(ctx, id, container.StreamOptions{Tty: tty, IO: streamIO(in, out, errw, resize)})
	return err
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
