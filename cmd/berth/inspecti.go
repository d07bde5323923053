package main

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

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
		var fields map[string]any
		if json.Unmarshal(data, &fields) == nil {
			rfc3339Times(fields)
			out["status"] = fields
		} else {
			out["status"] = json.RawMessage(data)
		}
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

// rfc3339Times rewrites the CRI's nanosecond timestamps (createdAt,
// startedAt, finishedAt; protojson gives them as strings) as RFC 3339;
// a zero time becomes "".
func rfc3339Times(fields map[string]any) {
	for _, k := range []string{"createdAt", "startedAt", "finishedAt"} {
		s, ok := fields[k].(string)
		if !ok {
			continue
		}
		ns, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			continue
		}
		if ns == 0 {
			fields[k] = ""
		} else {
			fields[k] = time.Unix(0, ns).UTC().Format(time.RFC3339Nano)
		}
	}
}
