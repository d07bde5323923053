// Package crashpoint lets the integration tests kill berthd at an exact
// point of an operation, to prove that start-up recovery undoes or
// finishes whatever that point leaves behind. berthd dies with SIGKILL
// when it reaches the point named by $BERTH_TEST_CRASH_AT; without it,
// Reached is a string comparison.
package crashpoint

import (
	"log/slog"
	"os"
	"syscall"
)

var at = os.Getenv("BERTH_TEST_CRASH_AT")

// Reached kills the process if name is the configured crash point.
func Reached(name string) {
	if at == "" || name != at {
		return
	}
	slog.Warn("test hook: crashing", "at", name)
	syscall.Kill(os.Getpid(), syscall.SIGKILL)
	select {} // the signal is on its way
}
