package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newRmiCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rmi IMAGE...",
		Short: "Remove images (by reference, ID or ID prefix)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			var errs []error
			for _, spec := range args {
				id, err := c.resolveImage(spec)
				if err == nil {
					ctx, cancel := c.ctx()
					_, err = c.Images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: id}})
					cancel()
					err = c.explain(err)
				}
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", spec, err))
					continue
				}
				fmt.Println("Deleted:", id)
			}
			return errors.Join(errs...)
		},
	}
}
