package cri

import (
	"context"
	"log/slog"
	"runtime/debug"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/errdefs/errgrpc"
)

// UnaryInterceptor logs each call, turns panics into codes.Internal and
// maps domain errors to gRPC codes: the one place this happens. onCall,
// if set, is told of every call (berthd gives memory back after a burst).
func UnaryInterceptor(onCall func()) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (resp any, err error) {
		start := time.Now()
		defer func() {
			if onCall != nil {
				onCall()
			}
			if p := recover(); p != nil {
				slog.Error("panic in CRI call", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
				resp, err = nil, status.Errorf(codes.Internal, "internal error in %s: %v", shortMethod(info.FullMethod), p)
			}
			err = errgrpc.ToGRPC(err)
			logCall(ctx, info.FullMethod, start, err)
		}()
		return handler(ctx, req)
	}
}

// StreamInterceptor does for streaming calls what UnaryInterceptor does.
func StreamInterceptor(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) (err error) {
	start := time.Now()
	defer func() {
		if p := recover(); p != nil {
			slog.Error("panic in CRI stream", "method", info.FullMethod, "panic", p, "stack", string(debug.Stack()))
			err = status.Errorf(codes.Internal, "internal error in %s: %v", shortMethod(info.FullMethod), p)
		}
		err = errgrpc.ToGRPC(err)
		logCall(ss.Context(), info.FullMethod, start, err)
	}()
	return handler(srv, ss)
}

func logCall(ctx context.Context, full string, start time.Time, err error) {
	method := shortMethod(full)
	level := slog.LevelInfo
	if isReadOnly(method) {
		level = slog.LevelDebug
	}
	attrs := []any{"method", method, "took", time.Since(start)}
	if err != nil {
		code := status.Code(err)
		attrs = append(attrs, "code", code.String(), "err", status.Convert(err).Message())
		if code == codes.Internal || code == codes.Unknown {
			level = slog.LevelError
		}
	}
	slog.Log(ctx, level, "cri", attrs...)
}

func shortMethod(full string) string {
	if i := strings.LastIndex(full, "/"); i >= 0 {
		return full[i+1:]
	}
	return full
}

// isReadOnly tells the calls kubelet makes all the time (logged at debug).
func isReadOnly(method string) bool {
	for _, p := range []string{"List", "Stream", "Version", "Status", "ImageFsInfo", "ContainerStats", "PodSandboxStats", "ContainerStatus", "PodSandboxStatus", "ImageStatus"} {
		if strings.HasPrefix(method, p) || strings.HasSuffix(method, p) {
			return true
		}
	}
	return false
}

// requireField returns InvalidArgument when a required request field is missing.
func requireField(ok bool, name string) error {
	if ok {
		return nil
	}
	return errdefs.InvalidArgument("%s is required", name)
}
