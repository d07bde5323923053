package server

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/berth-runtime/berth/internal/ociruntime"
	"github.com/berth-runtime/berth/internal/shim/wire"
)

// run executes the OCI runtime's verb (argv from ociruntime), stdin and
// stdout from /dev/null and stderr captured, and returns its error output
// on failure.
func (s *Server) run(stdio []*os.File, verb string, argv []string) error {
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		return err
	}
	files := stdio
	if files == nil {
		files = []*os.File{s.devNull, s.devNull, stderrW}
	} else {
		files = append(append([]*os.File(nil), stdio[:2]...), stderrW)
		files = append(files, stdio[3:]...)
	}
	_, wait, err := s.reaper.start(argv, files)
	stderrW.Close()
	if err != nil {
		stderrR.Close()
		return fmt.Errorf("%s: %w", argv[0], err)
	}
	var msg bytes.Buffer
	io.Copy(&msg, io.LimitReader(stderrR, 64<<10))
	stderrR.Close()
	ws := <-wait
	if ws.ExitStatus() != 0 || ws.Signaled() {
		return fmt.Errorf("%s %s: %s", argv[0], verb, runtimeMessage(msg.String(), ws))
	}
	return nil
}

// runtimeMessage extracts the useful part of runc's or crun's error output.
func runtimeMessage(out string, ws interface{ ExitStatus() int }) string {
	out = strings.TrimSpace(out)
	if out == "" {
		return fmt.Sprintf("exit status %d", ws.ExitStatus())
	}
	lines := strings.Split(out, "\n")
	return lines[len(lines)-1]
}

// runtimeOf is the OCI runtime a container was created with.
func runtimeOf(req wire.CreateRequest) ociruntime.Runtime {
	return ociruntime.Runtime{Path: req.Runtime, Root: req.RuntimeRoot}
}
