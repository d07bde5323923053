package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/wrapperspb"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

// The verbs the CRI has no calls for go through berthd's image transfer
// service (berthinfo.ImagesService); another runtime lacks it, and says so.

// lacksExtension turns Unimplemented into a plain sentence.
func (c *client) lacksExtension(verb string, err error) error {
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("the runtime at %s does not offer %s: the CRI has no call for it, and only berthd serves it beside the CRI", c.endpoint, verb)
	}
	return c.explain(err)
}

// unary calls a unary extension method with the call timeout.
func (c *client) unary(method string, req map[string]any) (*structpb.Struct, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.unaryCtx(ctx, method, req)
}

func (c *client) unaryCtx(ctx context.Context, method string, req map[string]any) (*structpb.Struct, error) {
	in, err := structpb.NewStruct(req)
	if err != nil {
		return nil, err
	}
	out := &structpb.Struct{}
	return out, c.conn.Invoke(ctx, method, in, out)
}

func newTagCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "tag SOURCE TARGET",
		Short: "Give an image another name (TARGET: a reference such as registry/repo:tag)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error {
				_, err := c.unary(berthinfo.TagMethod, map[string]any{"source": args[0], "target": args[1]})
				return c.lacksExtension("tag", err)
			})
		},
	}
}

// untag removes one tag of an image that has others (docker's rmi of a
// tag). It reports false when berth's extension is missing.
func (c *client) untag(tag string) (bool, error) {
	_, err := c.unary(berthinfo.UntagMethod, map[string]any{"tag": tag})
	if status.Code(err) == codes.Unimplemented {
		return false, nil
	}
	return true, c.explain(err)
}

func newSaveCommand(g *globalOptions, use, short, defaultFormat string) *cobra.Command {
	var output, format string
	cmd := &cobra.Command{
		Use:   use + " [-o FILE] [--format docker|oci] IMAGE...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if format != "docker" && format != "oci" {
				return usage(fmt.Errorf("--format %q: want docker or oci", format))
			}
			out := os.Stdout
			if output != "" && output != "-" {
				f, err := os.OpenFile(output, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
				if err != nil {
					return err
				}
				defer f.Close()
				out = f
			} else if term.IsTerminal(int(os.Stdout.Fd())) {
				return usage(errors.New("refusing to write an archive to a terminal: use -o FILE or redirect stdout"))
			}
			images := make([]any, len(args))
			for i, a := range args {
				images[i] = a
			}
			return g.with(func(c *client) error {
				err := c.save(out, map[string]any{"images": images, "format": format})
				if err != nil && output != "" && output != "-" {
					os.Remove(output)
				}
				return err
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "write the archive to FILE (default: stdout)")
	cmd.Flags().StringVar(&format, "format", defaultFormat, "docker (docker save/load) or oci (an OCI image layout, as ctr image export)")
	return cmd
}

func (c *client) save(out io.Writer, req map[string]any) error {
	in, err := structpb.NewStruct(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background()) // an archive takes as long as it takes
	defer cancel()
	stream, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, berthinfo.SaveMethod)
	if err != nil {
		return c.lacksExtension("save", err)
	}
	if err := stream.SendMsg(in); err != nil {
		return c.lacksExtension("save", err)
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	for {
		chunk := &wrapperspb.BytesValue{}
		err := stream.RecvMsg(chunk)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return c.lacksExtension("save", err)
		}
		if _, err := out.Write(chunk.Value); err != nil {
			return err
		}
	}
}

func newLoadCommand(g *globalOptions, use, short string) *cobra.Command {
	var input string
	cmd := &cobra.Command{
		Use:   use + " [-i FILE]",
		Short: short,
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(args) == 1 { // ctr image import FILE
				input = args[0]
			}
			in := os.Stdin
			if input != "" && input != "-" {
				f, err := os.Open(input)
				if err != nil {
					return err
				}
				defer f.Close()
				in = f
			} else if term.IsTerminal(int(os.Stdin.Fd())) {
				return usage(errors.New("no archive on stdin: use -i FILE or redirect stdin"))
			}
			return g.with(func(c *client) error { return c.load(in) })
		},
	}
	cmd.Flags().StringVarP(&input, "input", "i", "", "read the archive from FILE (default: stdin)")
	return cmd
}

func (c *client) load(in io.Reader) error {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ClientStreams: true}, berthinfo.LoadMethod)
	if err != nil {
		return c.lacksExtension("load", err)
	}
	buf := make([]byte, 1<<20)
	for {
		n, rerr := io.ReadFull(in, buf)
		if n > 0 {
			if err := stream.SendMsg(wrapperspb.Bytes(buf[:n])); err != nil {
				break // the answer below says why
			}
		}
		if errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF) {
			break
		}
		if rerr != nil {
			return rerr
		}
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	resp := &structpb.Struct{}
	if err := stream.RecvMsg(resp); err != nil {
		return c.lacksExtension("load", err)
	}
	for _, v := range resp.Fields["images"].GetListValue().GetValues() {
		img := v.GetStructValue().GetFields()
		tags := img["tags"].GetListValue().GetValues()
		if len(tags) == 0 {
			fmt.Println("Loaded image ID:", img["id"].GetStringValue())
		}
		for _, t := range tags {
			fmt.Println("Loaded image:", t.GetStringValue())
		}
	}
	return nil
}

func newPushCommand(g *globalOptions) *cobra.Command {
	var creds string
	cmd := &cobra.Command{
		Use:   "push [--creds USER:PASSWORD] IMAGE [TARGET]",
		Short: "Push an image to its registry (or to TARGET, a reference)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(_ *cobra.Command, args []string) error {
			req := map[string]any{"source": args[0], "target": args[0]}
			if len(args) == 2 {
				req["target"] = args[1]
			}
			if creds != "" {
				user, pass, ok := cutCreds(creds)
				if !ok {
					return usage(fmt.Errorf("--creds: want USER:PASSWORD"))
				}
				req["username"], req["password"] = user, pass
			}
			return g.with(func(c *client) error { return c.push(req) })
		},
	}
	cmd.Flags().StringVar(&creds, "creds", "", "registry credentials as USER:PASSWORD")
	return cmd
}

func (c *client) push(req map[string]any) error {
	in, err := structpb.NewStruct(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stream, err := c.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, berthinfo.PushMethod)
	if err != nil {
		return c.lacksExtension("push", err)
	}
	if err := stream.SendMsg(in); err != nil {
		return c.lacksExtension("push", err)
	}
	if err := stream.CloseSend(); err != nil {
		return err
	}
	target := req["target"].(string)
	tty := term.IsTerminal(int(os.Stdout.Fd()))
	bar := &layerProgress{id: target}
	shown := false
	for {
		msg := &structpb.Struct{}
		if err := stream.RecvMsg(msg); err != nil {
			if tty && shown {
				fmt.Println()
			}
			return c.lacksExtension("push", err)
		}
		if d := msg.Fields["digest"].GetStringValue(); d != "" {
			if tty && shown {
				fmt.Println()
			}
			fmt.Printf("Pushed %s: %s\n", target, d)
			return nil
		}
		bar.current, bar.total = int64(msg.Fields["complete"].GetNumberValue()), int64(msg.Fields["total"].GetNumberValue())
		if bar.started.IsZero() {
			bar.started = time.Now()
			if !tty {
				fmt.Printf("%s: pushing %s\n", target, humanSize(uint64(bar.total)))
			}
		}
		if tty {
			fmt.Printf("\r\x1b[2K%s", strings.TrimSpace(bar.line()))
			shown = true
		}
	}
}
