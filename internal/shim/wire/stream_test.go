package wire

import (
	"bytes"
	"encoding/binary"
	"io"
	"testing"
)

func TestFramesRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	fw := NewFrameWriter(&buf)
	fw.Write(FrameResize, ResizePayload(120, 40))
	big := bytes.Repeat([]byte("x"), maxFrame+10)
	fw.Stream(FrameStdout).Write(big)
	fw.Write(FrameExit, ExitPayload(7))

	typ, p, err := ReadFrame(&buf)
	if w, h, _ := ParseResize(p); err != nil || typ != FrameResize || w != 120 || h != 40 {
		t.Fatalf("resize %c %v %d %d", typ, err, w, h)
	}
	var out []byte
	for i := 0; i < 2; i++ {
		typ, p, err = ReadFrame(&buf)
		if err != nil || typ != FrameStdout {
			t.Fatalf("stdout frame %d: %c %v", i, typ, err)
		}
		out = append(out, p...)
	}
	if !bytes.Equal(out, big) {
		t.Fatal("a large write must arrive whole, split into frames")
	}
	typ, p, err = ReadFrame(&buf)
	if err != nil || typ != FrameExit || int32(binary.BigEndian.Uint32(p)) != 7 {
		t.Fatalf("exit %c %v %v", typ, p, err)
	}
}

// Frames read into a kept buffer allocate nothing once it is there, and a
// frame larger than what is kept comes whole in its own.
func TestReadFrameIntoKeepsItsBuffer(t *testing.T) {
	var stream bytes.Buffer
	fw := NewFrameWriter(&stream)
	chunk := bytes.Repeat([]byte("y"), 32<<10)
	for i := 0; i < 200; i++ {
		fw.Write(FrameStdin, chunk)
	}
	big := bytes.Repeat([]byte("z"), keptFrame+1)
	fw.Write(FrameStdin, big)
	var buf []byte
	if typ, p, err := ReadFrameInto(&stream, &buf); err != nil || typ != FrameStdin || !bytes.Equal(p, chunk) {
		t.Fatalf("first frame: %c %d bytes %v", typ, len(p), err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		if typ, p, err := ReadFrameInto(&stream, &buf); err != nil || typ != FrameStdin || !bytes.Equal(p, chunk) {
			t.Fatalf("frame: %c %d bytes %v", typ, len(p), err)
		}
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per frame, want 0", allocs)
	}
	for stream.Len() > len(big)+5 {
		ReadFrameInto(&stream, &buf)
	}
	typ, p, err := ReadFrameInto(&stream, &buf)
	if err != nil || typ != FrameStdin || !bytes.Equal(p, big) || cap(buf) != keptFrame {
		t.Fatalf("large frame: %c %d bytes %v, kept %d", typ, len(p), err, cap(buf))
	}
	w := NewFrameWriter(io.Discard)
	if allocs := testing.AllocsPerRun(100, func() { w.Write(FrameStdout, chunk) }); allocs != 0 {
		t.Fatalf("writing a frame: %v allocations, want 0", allocs)
	}
}
