package main

import (
	"encoding/json"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newInspectImageCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspecti IMAGE",
		Short: "Show an image's status and config",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := format(output).validate("json", "yaml"); err != nil {
				return err
			}
			c, err := g.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			id, err := c.resolveImage(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: id}, Verbose: true})
			if err != nil {
				return c.explain(err)
			}
			return printStructured(os.Stdout, format(output), withInfo(resp.Image, resp.Info))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "json", "json or yaml")
	return cmd
}

// withInfo joins a status message and its verbose info (JSON strings) into
// one document, as crictl inspect does.
func withInfo(status proto.Message, info map[string]string) map[string]any {
	out := map[string]any{}
	if data, err := (protojson.MarshalOptions{EmitDefaultValues: true}).Marshal(status); err == nil {
		out["status"] = json.RawMessage(data)
	}
	for k, v := range info {
		if json.Valid([]byte(v)) {
			out[k] = json.RawMessage(v)
		} else {
			out[k] = v
		}
	}
	return out
}
