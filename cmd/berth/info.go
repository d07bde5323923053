package main

import (
	"os"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newInfoCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the runtime's conditions and configuration",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := format(output).validate("json", "yaml"); err != nil {
				return err
			}
			c, err := g.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := c.ctx()
			defer cancel()
			st, err := c.Runtime.Status(ctx, &runtime.StatusRequest{Verbose: true})
			if err != nil {
				return c.explain(err)
			}
			fs, err := c.Images.ImageFsInfo(ctx, &runtime.ImageFsInfoRequest{})
			if err != nil {
				return c.explain(err)
			}
			doc := withInfo(st.Status, st.Info)
			doc["imageFilesystems"] = fs.ImageFilesystems
			return printStructured(os.Stdout, format(output), doc)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "json", "json or yaml")
	return cmd
}
