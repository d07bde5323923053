package server

import (
	"errors"
	"io"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Conn is one client connection of the shim.
type Conn interface {
	io.ReadWriteCloser
	SetDeadline(t time.Time) error
}

// Listener accepts connections on a unix socket without the net package
// (a tenth of the shim's code, paid in every pod's memory): the listening
// socket and each connection are non-blocking descriptors in os.Files, so
// the runtime's poller waits for them as it would for net's.
type Listener struct {
	file *os.File
	raw  syscall.RawConn
}

// ListenUnix listens on path (which must not exist).
func ListenUnix(path string) (*Listener, error) {
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(fd)
		return nil, &os.PathError{Op: "bind", Path: path, Err: err}
	}
	// The kernel caps the backlog at net.core.somaxconn (4096 here): bursts
	// of ExecSync (probes of every container at once) must queue, not fail.
	if err := unix.Listen(fd, 4096); err != nil {
		unix.Close(fd)
		return nil, os.NewSyscallError("listen", err)
	}
	f := os.NewFile(uintptr(fd), path)
	raw, err := f.SyscallConn()
	if err != nil {
		f.Close()
		return nil, err
	}
	return &Listener{file: f, raw: raw}, nil
}

// Accept waits for the next connection (or the deadline, or Close).
func (l *Listener) Accept() (Conn, error) {
	var nfd int
	var acceptErr error
	err := l.raw.Read(func(fd uintptr) bool {
		nfd, _, acceptErr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		return !errors.Is(acceptErr, unix.EAGAIN) // false: wait until readable
	})
	if err != nil {
		return nil, err
	}
	if acceptErr != nil {
		return nil, os.NewSyscallError("accept", acceptErr)
	}
	return os.NewFile(uintptr(nfd), "conn"), nil
}

// SetDeadline bounds the wait of Accept.
func (l *Listener) SetDeadline(t time.Time) error { return l.file.SetDeadline(t) }

// Close stops the listener; a waiting Accept returns an error.
func (l *Listener) Close() error { return l.file.Close() }

// receiveFD accepts one connection on l and takes the file descriptor it
// sends (SCM_RIGHTS) with its message, which names it.
func (l *Listener) receiveFD() (*os.File, error) {
	c, err := l.Accept()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	raw, err := c.(*os.File).SyscallConn()
	if err != nil {
		return nil, err
	}
	name := make([]byte, 4096)
	oob := make([]byte, unix.CmsgSpace(4))
	var n, oobn int
	var recvErr error
	err = raw.Read(func(fd uintptr) bool {
		n, oobn, _, _, recvErr = unix.Recvmsg(int(fd), name, oob, unix.MSG_CMSG_CLOEXEC)
		return !errors.Is(recvErr, unix.EAGAIN)
	})
	if err == nil {
		err = recvErr
	}
	if err != nil {
		return nil, os.NewSyscallError("recvmsg", err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return nil, errors.New("no control message")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		return nil, errors.New("no file descriptor in the control message")
	}
	return os.NewFile(uintptr(fds[0]), string(name[:n])), nil
}
