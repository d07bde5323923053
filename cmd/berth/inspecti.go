package main

import (
	"context"
	"encoding/json"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newInspectImageCommand(g *globalOptions) *cobra.Command {
	images := func(c *client) func(string) (string, error) { return c.resolveImage }
	return inspectVerb(g, "inspecti IMAGE", "Show an image's status and config", images,
		func(ctx context.Context, c *client, id string) (proto.Message, map[string]string, error) {
			resp, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: id}, Verbose: true})
			return resp.GetImage(), resp.GetInfo(), err
		})
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
