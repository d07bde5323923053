package main

import (
	"errors"
	"strings"
)

// berth exits as docker does: the container's own code when it ran, 125
// when berth or the runtime failed (a bad command line included), 126 when
// the container's command cannot be run, 127 when it does not exist.
const (
	exitBerthFailed     = 125
	exitCannotInvoke    = 126
	exitCommandNotFound = 127
)

// statusError is an error with the exit code it stands for.
type statusError struct {
	code int
	err  error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// usage marks a mistake on the command line.
func usage(err error) error { return &statusError{exitBerthFailed, err} }

// runtimeFailure marks a failure of berth or the runtime.
func runtimeFailure(err error) error { return &statusError{exitBerthFailed, err} }

// containerFailure classes a failure to create or start the container:
// its command missing or not executable, else the runtime's failure.
func containerFailure(err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "executable file not found"), strings.Contains(msg, "no such file or directory"):
		return &statusError{exitCommandNotFound, err}
	case strings.Contains(msg, "permission denied"):
		return &statusError{exitCannotInvoke, err}
	}
	return runtimeFailure(err)
}

// exitCode is the code berth exits with for err.
func exitCode(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.code
	}
	if strings.HasPrefix(err.Error(), "unknown command") {
		return 1
	}
	if strings.Contains(err.Error(), "arg(s)") || strings.Contains(err.Error(), "flag") && strings.Contains(err.Error(), "unknown") {
		return exitBerthFailed
	}
	return 1
}
