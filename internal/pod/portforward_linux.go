package pod

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// PortForward connects stream to TCP port on the pod's loopback, inside
// the pod's network namespace, and copies both ways until either side
// closes.
func (m *Manager) PortForward(ctx context.Context, id string, port int32, stream io.ReadWriteCloser) error {
	defer stream.Close()
	s, err := m.Get(id)
	if err != nil {
		return err
	}
	if s.State != StateReady {
		return errdefs.FailedPrecondition("pod sandbox %s is not ready", s.ID)
	}
	if port <= 0 || port > 65535 {
		return errdefs.InvalidArgument("port %d is out of range", port)
	}
	var conn net.Conn
	if s.HostNetwork() || s.NetNS == "" {
		conn, err = net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	} else {
		conn, err = dialInNetNS(s.NetNS, fmt.Sprintf("127.0.0.1:%d", port))
	}
	if err != nil {
		return fmt.Errorf("port-forward to port %d of pod %s: %w", port, s.ID, err)
	}
	defer conn.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(conn, stream)
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
	}()
	done := make(chan struct{})
	go func() { io.Copy(stream, conn); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	conn.Close()
	stream.Close()
	wg.Wait()
	return nil
}

// dialInNetNS opens a TCP connection from inside a network namespace: the
// socket is made on a thread that joined the namespace and stays in it.
// The thread is never returned to the scheduler, so no other goroutine
// runs in the wrong namespace.
func dialInNetNS(netns, addr string) (net.Conn, error) {
	type result struct {
		conn net.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with this goroutine
		f, err := os.Open(netns)
		if err != nil {
			done <- result{nil, err}
			return
		}
		defer f.Close()
		if err := unix.Setns(int(f.Fd()), unix.CLONE_NEWNET); err != nil {
			done <- result{nil, fmt.Errorf("enter network namespace: %w", err)}
			return
		}
		conn, err := net.Dial("tcp", addr)
		done <- result{conn, err}
	}()
	r := <-done
	return r.conn, r.err
}
