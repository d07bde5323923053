// Command berth-shim monitors the containers of one pod: it is their
// processes' parent, holds their stdio, writes their CRI logs and records
// their exits. berthd starts it detached; it outlives berthd and exits when
// berthd shuts it down with no container left.
//
//	berth-shim --dir DIR --socket PATH
//
// DIR receives shim.pid and the exit files; PATH is the socket. If fd 3 is open,
// "ready\n" is written to it once the socket accepts connections.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/memtrim"
	"github.com/berth-runtime/berth/internal/shim/server"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// shimMemoryLimit is where the runtime collects on its own: far above what
// a shim holds (about 1 MB live with a few containers), so that only a
// runaway (a long stream of frames with no pause) meets it.
const shimMemoryLimit = 64 << 20

func main() {
	dir := flag.String("dir", "", "the shim's directory")
	socket := flag.String("socket", "", "the socket to serve on")
	flag.Parse()
	if *dir == "" || *socket == "" {
		fmt.Fprintln(os.Stderr, "berth-shim: --dir and --socket are required")
		os.Exit(2)
	}
	// A monitor is paid per pod: it collects its garbage when it made some
	// (memtrim.Sparing), not every two minutes as the runtime would; the
	// memory limit is a backstop that no pod's shim comes near.
	debug.SetGCPercent(-1)
	debug.SetMemoryLimit(shimMemoryLimit)
	if err := run(*dir, *socket); err != nil {
		logf("fatal: %v", err)
		os.Exit(1)
	}
}

func run(dir, sock string) error {
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("become subreaper: %w", err)
	}
	// A monitor is paid per pod: give memory back 2 s after each burst of
	// requests, collecting if the garbage outweighs what the collection
	// costs (its first takes ~0.4 MB of mark-bit arenas; a container's
	// creation leaves ~0.1 MB of garbage, an ExecSync ~80 KB), and collect
	// during a long burst.
	trim := &memtrim.Sparing{First: 384 << 10, Idle: 128 << 10, Busy: 4 << 20}
	s, err := server.New(dir, logf, server.Idle{Delay: 2 * time.Second, Do: trim.Trim, Busy: trim.Check})
	if err != nil {
		return err
	}
	os.Remove(sock)
	l, err := server.ListenUnix(sock)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, wire.PidName), []byte(strconv.Itoa(os.Getpid())), 0o600); err != nil {
		return err
	}
	if ready := os.NewFile(3, "ready"); ready != nil {
		ready.Write([]byte("ready\n"))
		ready.Close()
	}
	trim.Trim()
	err = s.Serve(l)
	os.Remove(sock)
	os.Remove(filepath.Join(dir, wire.PidName))
	return err
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s berth-shim[%d]: %s\n", time.Now().UTC().Format(time.RFC3339Nano), os.Getpid(), fmt.Sprintf(format, args...))
}
