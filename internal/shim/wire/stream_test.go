package wire

import (
	"bytes"
	"encoding/binary"
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
