// Package errdefs holds the typed error classes of berth's domain packages.
//
// Domain code wraps one of the sentinels with context
// (fmt.Errorf("image %q: %w", ref, errdefs.ErrNotFound)) and the CRI edge
// converts the class to a gRPC status code once (errgrpc.ToGRPC, in its
// interceptor).
package errdefs

import (
	"context"
	"errors"
	"fmt"
)

// The error classes. Each maps to exactly one gRPC code.
var (
	ErrInvalidArgument    = errors.New("invalid argument")
	ErrNotFound           = errors.New("not found")
	ErrAlreadyExists      = errors.New("already exists")
	ErrFailedPrecondition = errors.New("failed precondition")
	ErrUnavailable        = errors.New("unavailable")
	ErrUnauthenticated    = errors.New("unauthenticated")
	ErrPermissionDenied   = errors.New("permission denied")
	ErrResourceExhausted  = errors.New("resource exhausted")
	ErrNotImplemented     = errors.New("not implemented")
	ErrDataLoss           = errors.New("data loss")
	ErrDeadlineExceeded   = errors.New("deadline exceeded")
)

// InvalidArgument returns an ErrInvalidArgument with a formatted message.
func InvalidArgument(format string, args ...any) error {
	return classed(ErrInvalidArgument, format, args...)
}

// NotFound returns an ErrNotFound with a formatted message.
func NotFound(format string, args ...any) error { return classed(ErrNotFound, format, args...) }

// AlreadyExists returns an ErrAlreadyExists with a formatted message.
func AlreadyExists(format string, args ...any) error {
	return classed(ErrAlreadyExists, format, args...)
}

// FailedPrecondition returns an ErrFailedPrecondition with a formatted message.
func FailedPrecondition(format string, args ...any) error {
	return classed(ErrFailedPrecondition, format, args...)
}

// Unavailable returns an ErrUnavailable with a formatted message.
func Unavailable(format string, args ...any) error { return classed(ErrUnavailable, format, args...) }

// classedError carries a message and the class it belongs to; its text is
// the message alone so that clients see no "invalid argument: " noise.
type classedError struct {
	class error
	msg   string
}

func (e *classedError) Error() string { return e.msg }
func (e *classedError) Unwrap() error { return e.class }

func classed(class error, format string, args ...any) error {
	return &classedError{class: class, msg: fmt.Sprintf(format, args...)}
}

// Is reports whether err belongs to class.
func Is(err, class error) bool { return errors.Is(err, class) }

// Classed reports whether err already belongs to one of the classes.
func Classed(err error) bool {
	for _, c := range []error{ErrInvalidArgument, ErrNotFound, ErrAlreadyExists, ErrFailedPrecondition, ErrUnavailable,
		ErrUnauthenticated, ErrPermissionDenied, ErrResourceExhausted, ErrNotImplemented, ErrDataLoss, ErrDeadlineExceeded} {
		if errors.Is(err, c) {
			return true
		}
	}
	return false
}

// IsContextError reports whether err came from a cancelled or expired context.
func IsContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
