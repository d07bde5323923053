package main

import (
	"context"
	"os"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// inspectVerb builds a verb that prints an object's verbose status.
func inspectVerb(g *globalOptions, use, short string, resolve func(*client) func(string) (string, error),
	status func(ctx context.Context, c *client, id string) (proto.Message, map[string]string, error)) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := format(output).validate("json", "yaml"); err != nil {
				return err
			}
			return g.with(func(c *client) error {
				id, err := resolve(c)(args[0])
				if err != nil {
					return err
				}
				var msg proto.Message
				var info map[string]string
				if err := c.call(func(ctx context.Context) (err error) {
					msg, info, err = status(ctx, c, id)
					return err
				}); err != nil {
					return err
				}
				return printStructured(os.Stdout, format(output), withInfo(msg, info))
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "json", "json or yaml")
	return cmd
}

func newInspectCommand(g *globalOptions) *cobra.Command {
	return inspectVerb(g, "inspect CONTAINER", "Show a container's status and details", containers,
		func(ctx context.Context, c *client, id string) (proto.Message, map[string]string, error) {
			resp, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
			return resp.GetStatus(), resp.GetInfo(), err
		})
}

func newInspectPodCommand(g *globalOptions) *cobra.Command {
	return inspectVerb(g, "inspectp POD", "Show a pod's status and details", pods,
		func(ctx context.Context, c *client, id string) (proto.Message, map[string]string, error) {
			resp, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
			return resp.GetStatus(), resp.GetInfo(), err
		})
}
