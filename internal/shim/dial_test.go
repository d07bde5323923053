package shim

import (
	"context"
	"errors"
	"net"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A shim whose accept queue is full is busy, not gone: the dial waits for
// room instead of failing with ErrShimGone (the kernel answers a
// non-blocking unix connect on a full queue with EAGAIN).
func TestDialWaitsOutAFullAcceptQueue(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s")
	fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.Close(fd)
	if err := syscall.Bind(fd, &syscall.SockaddrUnix{Name: sock}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	// Fill the queue until the kernel says EAGAIN.
	var held []net.Conn
	defer func() {
		for _, c := range held {
			c.Close()
		}
	}()
	full := false
	for i := 0; i < 64 && !full; i++ {
		c, err := net.Dial("unix", sock)
		if errors.Is(err, syscall.EAGAIN) {
			full = true
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	if !full {
		t.Fatal("the accept queue never filled")
	}
	// Make room after a while, as a busy shim does.
	go func() {
		time.Sleep(100 * time.Millisecond)
		for i := 0; i < 4; i++ {
			if nfd, _, err := syscall.Accept(fd); err == nil {
				defer syscall.Close(nfd)
			}
		}
		time.Sleep(time.Second)
	}()
	c := &Client{Socket: sock}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := c.dial(ctx)
	if err != nil {
		t.Fatalf("dial with a full queue: %v", err)
	}
	conn.Close()
	// A socket nobody listens on is gone.
	if _, err := (&Client{Socket: filepath.Join(t.TempDir(), "none")}).dial(ctx); !errors.Is(err, ErrShimGone) {
		t.Fatalf("missing socket: %v, want ErrShimGone", err)
	}
}
