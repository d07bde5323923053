package wire

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Streaming operations switch their connection, after the JSON answer, to
// frames: one type byte, a big-endian uint32 length, the payload.
const (
	OpExecStream = "exec_stream"
	OpAttach     = "attach"
)

// Frame types.
const (
	FrameStdin      byte = 'i' // berthd -> shim: data for the process's stdin
	FrameStdinClose byte = 'I' // berthd -> shim: stdin is done
	FrameResize     byte = 'r' // berthd -> shim: width, height (uint16 each)
	FrameStdout     byte = 'o' // shim -> berthd
	FrameStderr     byte = 'e' // shim -> berthd
	FrameExit       byte = 'x' // shim -> berthd: int32 exit code; the last frame
)

// maxFrame bounds a frame's payload.
const maxFrame = 1 << 20

// StreamRequest starts an interactive exec or an attach.
type StreamRequest struct {
	Process []byte `json:"process,omitempty"` // exec: an OCI Process (JSON)
	Tty     bool   `json:"tty,omitempty"`
	Stdin   bool   `json:"stdin,omitempty"`
	Stdout  bool   `json:"stdout,omitempty"`
	Stderr  bool   `json:"stderr,omitempty"`
}

// FrameWriter writes frames; it is safe for concurrent use.
type FrameWriter struct {
	mu  sync.Mutex
	w   io.Writer
	hdr [5]byte // under mu: a header on the stack would escape to the heap
}

// NewFrameWriter writes frames to w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

// Write sends one frame.
func (f *FrameWriter) Write(typ byte, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hdr[0] = typ
	binary.BigEndian.PutUint32(f.hdr[1:], uint32(len(payload)))
	if _, err := f.w.Write(f.hdr[:]); err != nil {
		return err
	}
	_, err := f.w.Write(payload)
	return err
}

// Stream returns an io.Writer that sends each write as a frame of typ.
func (f *FrameWriter) Stream(typ byte) io.Writer { return frameStream{f, typ} }

type frameStream struct {
	f   *FrameWriter
	typ byte
}

func (s frameStream) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += maxFrame {
		end := min(off+maxFrame, len(p))
		if err := s.f.Write(s.typ, p[off:end]); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

// ReadFrame reads one frame into a payload of its own.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	hdr := make([]byte, 5)
	return readFrame(r, hdr, func(n uint32) []byte { return make([]byte, n) })
}

// keptFrame is the largest buffer ReadFrameInto keeps between frames.
const keptFrame = 64 << 10

// ReadFrameInto reads one frame into *buf, which it grows and keeps for
// the next call (up to 64 KB; a larger frame gets its own): the payload is
// valid until then. A stream of stdin frames (kubectl cp is a tar on
// stdin) then allocates nothing per frame in berth-shim, which collects
// its garbage only now and then.
func ReadFrameInto(r io.Reader, buf *[]byte) (byte, []byte, error) {
	if cap(*buf) < 5 {
		*buf = make([]byte, keptFrame)
	}
	return readFrame(r, (*buf)[:5], func(n uint32) []byte {
		if int(n) <= cap(*buf) {
			return (*buf)[:n]
		}
		return make([]byte, n)
	})
}

// readFrame reads a frame's header into hdr and its payload into what
// payload gives for its length.
func readFrame(r io.Reader, hdr []byte, payload func(n uint32) []byte) (byte, []byte, error) {
	if _, err := io.ReadFull(r, hdr); err != nil {
		return 0, nil, err
	}
	typ, n := hdr[0], binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes is too large", n)
	}
	p := payload(n)
	if _, err := io.ReadFull(r, p); err != nil {
		return 0, nil, err
	}
	return typ, p, nil
}

// ResizePayload encodes a terminal size.
func ResizePayload(width, height uint16) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint16(b, width)
	binary.BigEndian.PutUint16(b[2:], height)
	return b
}

// ParseResize decodes a terminal size.
func ParseResize(p []byte) (width, height uint16, err error) {
	if len(p) != 4 {
		return 0, 0, errors.New("bad resize frame")
	}
	return binary.BigEndian.Uint16(p), binary.BigEndian.Uint16(p[2:]), nil
}

// ExitPayload encodes an exit code.
func ExitPayload(code int32) []byte {
	b := make([]byte, 4)
	binary.BigEndian.PutUint32(b, uint32(code))
	return b
}
