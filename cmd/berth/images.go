package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type imagesOptions struct {
	quiet   bool
	output  string
	noTrunc bool
}

func newImagesCommand(g *globalOptions) *cobra.Command {
	o := &imagesOptions{}
	cmd := &cobra.Command{
		Use:   "images [REF]",
		Short: "List images",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runImages(g, o, args)
		},
	}
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print image IDs only")
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "table, json or yaml")
	cmd.Flags().BoolVar(&o.noTrunc, "no-trunc", false, "print full image IDs")
	return cmd
}

func runImages(g *globalOptions, o *imagesOptions, args []string) error {
	if err := format(o.output).validate("table", "json", "yaml"); err != nil {
		return err
	}
	c, err := g.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	req := &runtime.ListImagesRequest{}
	if len(args) == 1 {
		req.Filter = &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: args[0]}}
	}
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.Images.ListImages(ctx, req)
	if err != nil {
		return c.explain(err)
	}
	switch {
	case o.quiet:
		for _, img := range resp.Images {
			fmt.Println(img.Id)
		}
		return nil
	case o.output != "table":
		return printStructured(os.Stdout, format(o.output), resp)
	}
	tw := newTable()
	fmt.Fprintln(tw, "IMAGE\tTAG\tIMAGE ID\tSIZE")
	for _, img := range resp.Images {
		id := strings.TrimPrefix(img.Id, "sha256:")
		if !o.noTrunc && len(id) > 13 {
			id = id[:13]
		}
		for _, row := range imageRows(img) {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", row[0], row[1], id, humanSize(img.Size))
		}
	}
	return tw.Flush()
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
