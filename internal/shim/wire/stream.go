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
	mu sync.Mutex
	w  io.Writer
}

// NewFrameWriter writes frames to w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

// Write sends one frame.
func (f *FrameWriter) Write(typ byte, payload []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := f.w.Write(hdr[:]); err != nil {
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

// ReadFrame reads one frame.
func ReadFrame(r io.Reader) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("frame of %d bytes is too large", n)
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		return 0, nil, err
	}
	return hdr[0], payload, nil
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
