package shim

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// TerminalSize is a terminal's width and height.
type TerminalSize struct{ Width, Height uint16 }

// StreamIO is what an interactive exec or attach connects to. Any of the
// readers and writers may be nil.
type StreamIO struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Resize         <-chan TerminalSize
}

// Stream runs an interactive exec (wire.OpExecStream) or attach (wire.OpAttach) and
// returns the process's exit code. Cancelling ctx ends the session; the
// shim then kills an exec'd process.
func (c *Client) Stream(ctx context.Context, op, id string, req *wire.StreamRequest, sio StreamIO) (int32, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return -1, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	data, err := json.Marshal(&wire.Request{Op: op, ID: id, Stream: req})
	if err != nil {
		return -1, err
	}
	if _, err := conn.Write(append(data, '\n')); err != nil {
		return -1, fmt.Errorf("%w: %v", ErrShimGone, err)
	}
	r := bufio.NewReaderSize(conn, 64<<10)
	line, err := r.ReadBytes('\n')
	if err != nil {
		return -1, fmt.Errorf("%w: %v", ErrShimGone, err)
	}
	var resp wire.Response
	if err := json.Unmarshal(line, &resp); err != nil {
		return -1, err
	}
	if resp.Err != "" {
		return -1, responseError(&resp)
	}
	fw := wire.NewFrameWriter(conn)
	if sio.Stdin != nil {
		go func() {
			io.Copy(fw.Stream(wire.FrameStdin), sio.Stdin)
			fw.Write(wire.FrameStdinClose, nil)
		}()
	}
	if sio.Resize != nil {
		go func() {
			for size := range sio.Resize {
				if fw.Write(wire.FrameResize, wire.ResizePayload(size.Width, size.Height)) != nil {
					return
				}
			}
		}()
	}
	return readOutput(ctx, r, sio)
}

func readOutput(ctx context.Context, r io.Reader, sio StreamIO) (int32, error) {
	for {
		typ, payload, err := wire.ReadFrame(r)
		if err != nil {
			if ctx.Err() != nil {
				return -1, ctx.Err()
			}
			return -1, fmt.Errorf("stream ended early: %w", err)
		}
		switch typ {
		case wire.FrameStdout:
			if sio.Stdout != nil {
				sio.Stdout.Write(payload)
			}
		case wire.FrameStderr:
			if sio.Stderr != nil {
				sio.Stderr.Write(payload)
			}
		case wire.FrameExit:
			if len(payload) != 4 {
				return -1, fmt.Errorf("bad exit frame")
			}
			return int32(binary.BigEndian.Uint32(payload)), nil
		}
	}
}
