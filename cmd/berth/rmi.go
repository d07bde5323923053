package main

import (
	"errors"
	"fmt"
	"strings"

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
				// A tag of an image that has others is only untagged, as
				// docker does: the image stays for its other names.
				if untagged, err := c.untagIfShared(spec); untagged || err != nil {
					if err != nil {
						errs = append(errs, fmt.Errorf("%s: %w", spec, err))
					} else {
						fmt.Println("Untagged:", spec)
					}
					continue
				}
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

// untagIfShared untags spec when it is a tag of an image with other tags.
func (c *client) untagIfShared(spec string) (bool, error) {
	ctx, cancel := c.ctx()
	st, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: spec}})
	cancel()
	if err != nil || st.GetImage() == nil || len(st.Image.RepoTags) < 2 || strings.HasPrefix(st.Image.Id, spec) {
		return false, nil
	}
	isTag := false
	for _, t := range st.Image.RepoTags {
		isTag = isTag || t == spec || strings.TrimPrefix(t, "docker.io/library/") == spec || strings.TrimPrefix(t, "docker.io/") == spec ||
			strings.TrimSuffix(strings.TrimPrefix(t, "docker.io/library/"), ":latest") == spec
	}
	if !isTag {
		return false, nil
	}
	return c.untag(spec)
}
