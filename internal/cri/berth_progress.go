package cri

import (
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/berth-runtime/berth/internal/image"
)

// PullProgressMethod is berth's one extension beside the CRI: a stream of
// the progress of pulls of one reference, for `berth pull`'s progress bars.
// The request is a StringValue (the image reference); each response is a
// Struct with the fields of image.ProgressEvent, the first one being
// {"subscribed": true} so the client knows it can start the pull. Other
// runtimes answer Unimplemented and the CLI shows no bars.
const PullProgressMethod = "/berth.v1.Progress/PullProgress"

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
