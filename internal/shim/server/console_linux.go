package server

import (
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// consoleSocket receives the pty master that runc or crun sends over
// --console-socket for a container with a terminal. It lives in a short
// temp dir: socket paths are limited to 108 bytes.
type consoleSocket struct {
	dir  string
	path string
	l    *Listener
}

func newConsoleSocket() (*consoleSocket, error) {
	dir, err := os.MkdirTemp("", "berth-pty-")
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "s")
	l, err := ListenUnix(path)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return &consoleSocket{dir: dir, path: path, l: l}, nil
}

// receive accepts the runtime's connection and takes the master fd.
func (c *consoleSocket) receive(timeout time.Duration) (*os.File, error) {
	c.l.SetDeadline(time.Now().Add(timeout))
	f, err := c.l.receiveFD()
	if err != nil {
		return nil, fmt.Errorf("console socket: %w", err)
	}
	return f, nil
}

func (c *consoleSocket) close() {
	c.l.Close()
	os.RemoveAll(c.dir)
}
