package errgrpc

import (
	"context"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func TestToGRPCMapsEveryClass(t *testing.T) {
	for _, cc := range classCodes {
		wrapped := fmt.Errorf("outer context: %w", fmt.Errorf("inner: %w", cc.class))
		st, ok := status.FromError(ToGRPC(wrapped))
		if !ok {
			t.Fatalf("%v: not a status", cc.class)
		}
		if st.Code() != cc.code {
			t.Errorf("%v: got code %v, want %v", cc.class, st.Code(), cc.code)
		}
		if st.Message() != wrapped.Error() {
			t.Errorf("%v: message %q, want %q", cc.class, st.Message(), wrapped.Error())
		}
	}
}

func TestClassedMessageHasNoClassPrefix(t *testing.T) {
	err := fmt.Errorf("pull: %w", errdefs.NotFound("image %q", "busybox"))
	if got, want := err.Error(), `pull: image "busybox"`; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	if Code(err) != codes.NotFound {
		t.Fatalf("code %v, want NotFound", Code(err))
	}
}

func TestUnclassedIsUnknownAndStatusPassesThrough(t *testing.T) {
	if Code(fmt.Errorf("boom")) != codes.Unknown {
		t.Fatal("plain error should be Unknown")
	}
	orig := status.Error(codes.Aborted, "x")
	if ToGRPC(orig) != orig {
		t.Fatal("status error should pass through unchanged")
	}
	if Code(fmt.Errorf("x: %w", context.Canceled)) != codes.Canceled {
		t.Fatal("context.Canceled should map to Canceled")
	}
	if ToGRPC(nil) != nil {
		t.Fatal("nil should stay nil")
	}
}
