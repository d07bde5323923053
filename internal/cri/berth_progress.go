package cri

import (
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/berth-runtime/berth/internal/image"
)

// The pull progress stream (berthinfo.PullProgressMethod): responses carry
// the fields of image.ProgressEvent.
type progressServer interface {
	pullProgress(ref string, stream grpc.ServerStream) error
}

var progressServiceDesc = grpc.ServiceDesc{
	ServiceName: "berth.v1.Progress",
	HandlerType: (*progressServer)(nil),
	Streams: []grpc.StreamDesc{{
		StreamName:    "PullProgress",
		ServerStreams: true,
		Handler: func(srv any, stream grpc.ServerStream) error {
			req := &wrapperspb.StringValue{}
			if err := stream.RecvMsg(req); err != nil {
				return err
			}
			return srv.(progressServer).pullProgress(req.Value, stream)
		},
	}},
}

func (s *Server) pullProgress(refText string, stream grpc.ServerStream) error {
	ref, err := image.ParseReference(refText)
	if err != nil {
		return err
	}
	events, cancel := s.images.SubscribeProgress(ref)
	defer cancel()
	if err := send(stream, map[string]any{"subscribed": true}); err != nil {
		return err
	}
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case ev := <-events:
			if err := send(stream, map[string]any{
				"layer": ev.Layer.String(), "current": ev.Current, "total": ev.Total,
				"done": ev.Done, "cached": ev.Cached, "finished": ev.Finished, "err": ev.Err,
			}); err != nil {
				return err
			}
			if ev.Finished {
				return nil
			}
		}
	}
}

func send(stream grpc.ServerStream, fields map[string]any) error {
	msg, err := structpb.NewStruct(fields)
	if err != nil {
		return err
	}
	return stream.SendMsg(msg)
}
