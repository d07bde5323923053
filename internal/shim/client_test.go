package shim

import (
	"bufio"
	"context"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// answering serves one connection per answer on a unix socket: it reads
// the request line and writes the answer in the given pieces (none: it
// hangs up without answering).
func answering(t *testing.T, answers ...[]string) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "s")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for _, pieces := range answers {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(conn).ReadBytes('\n')
			for _, p := range pieces {
				conn.Write([]byte(p))
			}
			conn.Close()
		}
	}()
	return &Client{Socket: sock}
}

// The client reads one answer per connection as it comes, in any number
// of pieces; a shim that hangs up is gone, one that answers garbage is not.
func TestCallReadsTheAnswerAndTellsAHangUpFromGarbage(t *testing.T) {
	ctx := context.Background()
	c := answering(t,
		[]string{`{"state":{"id":"c1","status":"running",`, `"pid":42}}` + "\n"},
		nil,
		[]string{"not json\n"},
		[]string{`{"err":"no such container","code":"not_found"}` + "\n"},
	)
	st, err := c.Start(ctx, "c1")
	if err != nil || st == nil || st.Pid != 42 || st.Status != wire.StatusRunning {
		t.Fatalf("an answer in two pieces: %+v, %v", st, err)
	}
	if _, err := c.Start(ctx, "c1"); !errors.Is(err, ErrShimGone) {
		t.Fatalf("a hang-up without an answer: %v", err)
	}
	if _, err := c.Start(ctx, "c1"); err == nil || errors.Is(err, ErrShimGone) || !strings.Contains(err.Error(), "shim answer") {
		t.Fatalf("garbage: %v", err)
	}
	if _, err := c.Start(ctx, "c1"); err == nil || errors.Is(err, ErrShimGone) || !errors.Is(err, errdefs.ErrNotFound) {
		t.Fatalf("an error answer: %v", err)
	}
}
