package shim

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"
)

// dial connects to the shim's socket. A full accept queue (EAGAIN on a
// unix socket: a burst of probes, say) is not a dead shim: the dial is
// retried, with a short growing pause, until ctx ends. Only a socket that
// is gone or refuses (the shim is not running) is ErrShimGone.
func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	var d net.Dialer
	pause := time.Millisecond
	for {
		conn, err := d.DialContext(ctx, "unix", c.Socket)
		if err == nil {
			return conn, nil
		}
		if !errors.Is(err, syscall.EAGAIN) {
			return nil, fmt.Errorf("%w: %v", ErrShimGone, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("shim busy (its accept queue stayed full): %w", ctx.Err())
		case <-time.After(pause):
		}
		if pause < 50*time.Millisecond {
			pause *= 2
		}
	}
}
