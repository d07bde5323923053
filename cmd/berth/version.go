package main

import (
	"fmt"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

func newVersionCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the client's and the runtime's versions",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			fmt.Printf("Client:\n  Version:  %s\n", berthinfo.Version)
			c, err := g.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := c.ctx()
			defer cancel()
			v, err := c.Runtime.Version(ctx, &runtime.VersionRequest{})
			if err != nil {
				return c.explain(err)
			}
			fmt.Printf("Runtime:\n  Name:        %s\n  Version:     %s\n  API version: %s\n  Endpoint:    %s\n",
				v.RuntimeName, v.RuntimeVersion, v.RuntimeApiVersion, g.endpoint)
			return nil
		},
	}
}
