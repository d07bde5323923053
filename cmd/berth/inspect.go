package main

import (
	"os"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newInspectCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspect CONTAINER",
		Short: "Show a container's status and details",
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
			id, err := c.resolveContainer(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
			if err != nil {
				return c.explain(err)
			}
			return printStructured(os.Stdout, format(output), withInfo(resp.Status, resp.Info))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "json", "json or yaml")
	return cmd
}

func newInspectPodCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "inspectp POD",
		Short: "Show a pod's status and details",
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
			id, err := c.resolvePod(args[0])
			if err != nil {
				return err
			}
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: id, Verbose: true})
			if err != nil {
				return c.explain(err)
			}
			return printStructured(os.Stdout, format(output), withInfo(resp.Status, resp.Info))
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "json", "json or yaml")
	return cmd
}
