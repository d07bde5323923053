package cri

import (
	"context"
	"syscall"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

// The container service beside the CRI (berthinfo.KillMethod,
// berthinfo.RestartMethod): signals and starting an exited container
// again, which the CRI has no calls for.
type containersServer interface {
	kill(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error)
	restart(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error)
}

var containersServiceDesc = grpc.ServiceDesc{
	ServiceName: "berth.v1.Containers",
	HandlerType: (*containersServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Kill", Handler: unaryStruct(berthinfo.KillMethod, containersServer.kill)},
		{MethodName: "Restart", Handler: unaryStruct(berthinfo.RestartMethod, containersServer.restart)},
	},
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

func (s *Server) restart(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	id := field(req, "id")
	if err := requireField(id != "", "id"); err != nil {
		return nil, err
	}
	if err := s.containers.Restart(ctx, id); err != nil {
		return nil, err
	}
	return &structpb.Struct{}, nil
}
