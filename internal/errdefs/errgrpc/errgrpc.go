// Package errgrpc maps berth's error classes (internal/errdefs) to gRPC
// codes, in one place, for the CRI edge. It lives apart from errdefs so
// that the domain packages, which only need the classes, do not link gRPC.
package errgrpc

import (
	"context"
	"errors"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-runtime/berth/internal/errdefs"
)

var classCodes = []struct {
	class error
	code  codes.Code
}{
	{errdefs.ErrInvalidArgument, codes.InvalidArgument},
	{errdefs.ErrNotFound, codes.NotFound},
	{errdefs.ErrAlreadyExists, codes.AlreadyExists},
	{errdefs.ErrFailedPrecondition, codes.FailedPrecondition},
	{errdefs.ErrUnavailable, codes.Unavailable},
	{errdefs.ErrUnauthenticated, codes.Unauthenticated},
	{errdefs.ErrPermissionDenied, codes.PermissionDenied},
	{errdefs.ErrResourceExhausted, codes.ResourceExhausted},
	{errdefs.ErrNotImplemented, codes.Unimplemented},
	{errdefs.ErrDataLoss, codes.DataLoss},
	{errdefs.ErrDeadlineExceeded, codes.DeadlineExceeded},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// ToGRPC converts a domain error to a gRPC status error. Errors that already
// are statuses pass through; unclassified errors become codes.Unknown.
func ToGRPC(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	return status.Error(Code(err), err.Error())
}

// Code returns the gRPC code for err's class.
func Code(err error) codes.Code {
	for _, cc := range classCodes {
		if errors.Is(err, cc.class) {
			return cc.code
		}
	}
	return codes.Unknown
}
