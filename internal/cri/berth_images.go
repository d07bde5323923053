package cri

import (
	"context"
	"errors"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/berth-runtime/berth/internal/berthinfo"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/image"
)

// The image transfer service (berthinfo.ImagesService): tag, untag, save,
// load and push, which the CRI has no verbs for.
type imagesServer interface {
	tag(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error)
	untag(ctx context.Context, req *structpb.Struct) (*structpb.Struct, error)
	save(req *structpb.Struct, stream grpc.ServerStream) error
	load(stream grpc.ServerStream) error
	push(req *structpb.Struct, stream grpc.ServerStream) error
}

// unaryStruct is the handler of a unary extension method taking and
// answering a Struct; call gets the registered server.
func unaryStruct[S any](full string, call func(S, context.Context, *structpb.Struct) (*structpb.Struct, error)) grpc.MethodHandler {
	return func(srv any, ctx context.Context, dec func(any) error, icpt grpc.UnaryServerInterceptor) (any, error) {
		req := &structpb.Struct{}
		if err := dec(req); err != nil {
			return nil, err
		}
		h := func(ctx context.Context, r any) (any, error) { return call(srv.(S), ctx, r.(*structpb.Struct)) }
		if icpt == nil {
			return h(ctx, req)
		}
		return icpt(ctx, req, &grpc.UnaryServerInfo{Server: srv, FullMethod: full}, h)
	}
}

func streamStruct(call func(imagesServer, *structpb.Struct, grpc.ServerStream) error) grpc.StreamHandler {
	return func(srv any, stream grpc.ServerStream) error {
		req := &structpb.Struct{}
		if err := stream.RecvMsg(req); err != nil {
			return err
		}
		return call(srv.(imagesServer), req, stream)
	}
}

var imagesServiceDesc = grpc.ServiceDesc{
	ServiceName: berthinfo.ImagesService,
	HandlerType: (*imagesServer)(nil),
	Methods: []grpc.MethodDesc{
		{MethodName: "Tag", Handler: unaryStruct(berthinfo.TagMethod, imagesServer.tag)},
		{MethodName: "Untag", Handler: unaryStruct(berthinfo.UntagMethod, imagesServer.untag)},
	},
	Streams: []grpc.StreamDesc{
		{StreamName: "Save", ServerStreams: true, Handler: streamStruct(imagesServer.save)},
		{StreamName: "Load", ClientStreams: true, Handler: func(srv any, stream grpc.ServerStream) error {
			return srv.(imagesServer).load(stream)
		}},
		{StreamName: "Push", ServerStreams: true, Handler: streamStruct(imagesServer.push)},
	},
}

func field(req *structpb.Struct, name string) string { return req.GetFields()[name].GetStringValue() }

func (s *Server) tag(_ context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	source, target := field(req, "source"), field(req, "target")
	if err := requireField(source != "", "source"); err != nil {
		return nil, err
	}
	if err := requireField(target != "", "target"); err != nil {
		return nil, err
	}
	rec, err := s.images.Tag(source, target)
	if err != nil {
		return nil, err
	}
	return structpb.NewStruct(map[string]any{"id": rec.ID.String()})
}

func (s *Server) untag(_ context.Context, req *structpb.Struct) (*structpb.Struct, error) {
	tag := field(req, "tag")
	if err := requireField(tag != "", "tag"); err != nil {
		return nil, err
	}
	rec, err := s.images.Untag(tag)
	if err != nil {
		return nil, err
	}
	tags := make([]any, len(rec.RepoTags))
	for i, t := range rec.RepoTags {
		tags[i] = t
	}
	return structpb.NewStruct(map[string]any{"id": rec.ID.String(), "tags": tags})
}

// chunkSize is the size of the archive's pieces on the wire.
const chunkSize = 1 << 20

// chunkWriter sends what is written as BytesValue messages of at most
// chunkSize bytes.
type chunkWriter struct{ stream grpc.ServerStream }

func (w chunkWriter) Write(p []byte) (int, error) {
	for off := 0; off < len(p); off += chunkSize {
		end := min(off+chunkSize, len(p))
		if err := w.stream.SendMsg(wrapperspb.Bytes(p[off:end])); err != nil {
			return off, err
		}
	}
	return len(p), nil
}

func (s *Server) save(req *structpb.Struct, stream grpc.ServerStream) error {
	var specs []string
	for _, v := range req.GetFields()["images"].GetListValue().GetValues() {
		specs = append(specs, v.GetStringValue())
	}
	format := field(req, "format")
	if format == "" {
		format = image.FormatDocker
	}
	bw := &bufferedChunks{w: chunkWriter{stream}, buf: make([]byte, 0, chunkSize)}
	if err := s.images.Save(bw, specs, format); err != nil {
		return err
	}
	return bw.flush()
}

// bufferedChunks gathers small writes (tar headers) into full chunks.
type bufferedChunks struct {
	w   chunkWriter
	buf []byte
}

func (b *bufferedChunks) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := cap(b.buf) - len(b.buf)
		take := min(room, len(p))
		b.buf = append(b.buf, p[:take]...)
		p = p[take:]
		if len(b.buf) == cap(b.buf) {
			if err := b.flush(); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

func (b *bufferedChunks) flush() error {
	if len(b.buf) == 0 {
		return nil
	}
	_, err := b.w.Write(b.buf)
	b.buf = b.buf[:0]
	return err
}

// chunkReader reads the BytesValue messages of a client stream as one
// byte stream.
type chunkReader struct {
	stream grpc.ServerStream
	rest   []byte
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.rest) == 0 {
		msg := &wrapperspb.BytesValue{}
		if err := r.stream.RecvMsg(msg); err != nil {
			return 0, err // io.EOF at the end of the archive
		}
		r.rest = msg.Value
	}
	n := copy(p, r.rest)
	r.rest = r.rest[n:]
	return n, nil
}

func (s *Server) load(stream grpc.ServerStream) error {
	recs, err := s.images.Load(&chunkReader{stream: stream})
	if err != nil {
		return err
	}
	var images []any
	for _, r := range recs {
		tags := make([]any, len(r.RepoTags))
		for i, t := range r.RepoTags {
			tags[i] = t
		}
		images = append(images, map[string]any{"id": r.ID.String(), "tags": tags})
	}
	return send(stream, map[string]any{"images": images})
}

func (s *Server) push(req *structpb.Struct, stream grpc.ServerStream) error {
	source, target := field(req, "source"), field(req, "target")
	if err := requireField(source != "", "source"); err != nil {
		return err
	}
	if target == "" {
		target = source
	}
	var creds *image.Credentials
	if u := field(req, "username"); u != "" {
		creds = &image.Credentials{Username: u, Password: field(req, "password")}
	}
	updates := make(chan v1.Update, 16)
	type result struct {
		digest string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		d, err := s.images.Push(stream.Context(), source, target, creds, updates)
		done <- result{d, err}
	}()
	var r result
	for waiting := true; waiting; {
		select {
		case u, ok := <-updates:
			if !ok {
				updates = nil // closed by the push when it ends
				continue
			}
			if u.Error != nil {
				continue
			}
			if err := send(stream, map[string]any{"complete": u.Complete, "total": u.Total}); err != nil {
				return err
			}
		case r = <-done:
			waiting = false
		}
	}
	if r.err != nil {
		if errors.Is(r.err, io.EOF) {
			return errdefs.Unavailable("push %s: the registry closed the connection", target)
		}
		return r.err
	}
	return send(stream, map[string]any{"digest": r.digest})
}
