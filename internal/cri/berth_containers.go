package cri

import (
	"context"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

// The container service beside the CRI (berthinfo.KillMethod): signals,
// which the CRI has no call for.
type containersServer interface {
	kill(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error)
}

var containersServiceDesc = grpc.ServiceDesc{
	ServiceName: "berth.v1.Containers",
	HandlerType: (*containersServer)(nil),
	Methods:     []grpc.MethodDesc{{MethodName: "Kill", Handler: unaryStruct(berthinfo.KillMethod, containersServer.kill)}},
}

func (s *Server) kill(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	id := field(req, "id")
	if err := requireField(id != "", "id"); err != nil {
		return nil, err
	}
	sig := req.GetFields()["signal"].GetNumberValue()
	if err := requireField(sig > 0, "signal"); err != nil {
		return nil, err
	}
	if err := s.containers.Signal(ctx, id, syscall.Signal(int(sig))); err != nil {
		return nil, err
	}
	return &structpb.Struct{}, nil
}
