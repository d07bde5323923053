package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newImagesCommand(g *globalOptions) *cobra.Command {
	o := &listFlags{}
	cmd := &cobra.Command{
		Use:   "images [REF]",
		Short: "List images",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error { return c.images(o, args) })
		},
	}
	o.register(cmd, "image")
	return cmd
}

func (c *client) images(o *listFlags, args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	req := &runtime.ListImagesRequest{}
	if len(args) == 1 {
		req.Filter = &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: args[0]}}
	}
	var resp *runtime.ListImagesResponse
	if err := c.call(func(ctx context.Context) (err error) {
		resp, err = c.Images.ListImages(ctx, req)
		return err
	}); err != nil {
		return err
	}
	var ids []string
	for _, img := range resp.Images {
		ids = append(ids, img.Id)
	}
	return o.emit(ids, resp, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "IMAGE\tTAG\tIMAGE ID\tSIZE")
		for _, img := range resp.Images {
			id := shortID(strings.TrimPrefix(img.Id, "sha256:"), o.noTrunc)
			for _, row := range imageRows(img) {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row[0], row[1], id, humanSize(img.Size))
			}
		}
	})
}

// imageRows gives one (repository, tag) row per tag, or one <none> row
// for an image known only by digest.
func imageRows(img *runtime.Image) [][2]string {
	var rows [][2]string
	for _, t := range img.RepoTags {
		i := strings.LastIndex(t, ":")
		rows = append(rows, [2]string{t[:i], t[i+1:]})
	}
	if len(rows) == 0 {
		repo := "<none>"
		if len(img.RepoDigests) > 0 {
			repo = strings.SplitN(img.RepoDigests[0], "@", 2)[0]
		}
		rows = append(rows, [2]string{repo, "<none>"})
	}
	return rows
}
