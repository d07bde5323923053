package server

import (
	"bytes"
	"testing"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// The first client to attach to an interactive (stdin_once) container gets
// what it wrote before (a shell's prompt); later clients, and clients of
// other containers, get only what comes after they attached.
func TestFirstAttachSeesEarlyOutputOfInteractiveContainer(t *testing.T) {
	frames := func(b *bytes.Buffer) string {
		var out string
		for {
			typ, data, err := wire.ReadFrame(b)
			if err != nil {
				return out
			}
			out += string(rune('0'+typ)) + ":" + string(data) + " "
		}
	}
	c := &container{req: wire.CreateRequest{StdinOnce: true}}
	c.broadcast("stdout", []byte("prompt$"))
	c.broadcast("stderr", []byte("warn"))
	var first, second bytes.Buffer
	c.addAttacher(wire.NewFrameWriter(&first))
	c.broadcast("stdout", []byte("after"))
	c.addAttacher(wire.NewFrameWriter(&second))
	c.broadcast("stdout", []byte("both"))
	out, errTyp := string(rune('0'+wire.FrameStdout)), string(rune('0'+wire.FrameStderr))
	if got, want := frames(&first), out+":prompt$ "+errTyp+":warn "+out+":after "+out+":both "; got != want {
		t.Errorf("first client got %q, want %q", got, want)
	}
	if got, want := frames(&second), out+":both "; got != want {
		t.Errorf("second client got %q, want %q", got, want)
	}
	plain := &container{}
	plain.broadcast("stdout", []byte("unseen"))
	var b bytes.Buffer
	plain.addAttacher(wire.NewFrameWriter(&b))
	if got := frames(&b); got != "" || plain.early != nil {
		t.Errorf("a container without stdin_once kept output: %q", got)
	}
	big := &container{req: wire.CreateRequest{StdinOnce: true}}
	for i := 0; i < 100; i++ {
		big.broadcast("stdout", make([]byte, 1<<10))
	}
	if big.earlyLen > maxEarly {
		t.Errorf("kept %d bytes, at most %d", big.earlyLen, maxEarly)
	}
}
