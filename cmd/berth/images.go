package main

import (
	"context"
	"fmt"
	"path"
	"strings"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type imagesOptions struct {
	listFlags
	filters []string
	format  string
}

// imageRow is one tag of an image as `images` shows it; --format
// templates see these fields.
type imageRow struct {
	Repository, Tag, ID, Digest, Size string
	Pinned                            bool
	fullID                            string
}

var imageColumns = []column{
	{"IMAGE", "Repository"}, {"TAG", "Tag"}, {"IMAGE ID", "ID"}, {"SIZE", "Size"},
}

func newImagesCommand(g *globalOptions) *cobra.Command {
	o := &imagesOptions{}
	cmd := &cobra.Command{
		Use:   "images [REF]",
		Short: "List images",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error { return c.images(o, args) })
		},
	}
	o.register(cmd, "image")
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "only images matching: reference=PATTERN (repo[:tag], * wildcards), dangling=true|false, id=PREFIX")
	cmd.Flags().StringVar(&o.format, "format", "", "print each image with a Go template, e.g. '{{.Repository}}:{{.Tag}}' ('table ...' adds a header)")
	return cmd
}

func parseImageFilters(specs []string) ([]listFilter, error) {
	return parseFilters(specs, []string{"reference", "dangling", "id"}, func(k, v string) error {
		if k == "dangling" && v != "true" && v != "false" {
			return fmt.Errorf("dangling is true or false")
		}
		if _, err := path.Match(v, ""); k == "reference" && err != nil {
			return fmt.Errorf("bad pattern: %v", err)
		}
		return nil
	})
}

func (r *imageRow) match(filters []listFilter) bool {
	return matchFilters(filters, func(key, v string) bool {
		switch key {
		case "reference":
			name := shortImage(r.Repository)
			for _, candidate := range []string{r.Repository, name, r.Repository + ":" + r.Tag, name + ":" + r.Tag} {
				if ok, _ := path.Match(v, candidate); ok {
					return true
				}
			}
			return false
		case "dangling":
			return (r.Tag == "<none>") == (v == "true")
		case "id":
			return strings.HasPrefix(r.fullID, strings.TrimPrefix(v, "sha256:"))
		}
		return false
	})
}

func (c *client) images(o *imagesOptions, args []string) error {
	if err := o.validate(); err != nil {
		return err
	}
	filters, err := parseImageFilters(o.filters)
	if err != nil {
		return usage(err)
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
	var kept []*runtime.Image
	var rows []*imageRow
	for _, img := range resp.Images {
		full := strings.TrimPrefix(img.Id, "sha256:")
		digest := "<none>"
		if len(img.RepoDigests) > 0 {
			_, digest, _ = strings.Cut(img.RepoDigests[0], "@")
		}
		matched := false
		for _, tag := range imageRows(img) {
			r := &imageRow{Repository: tag[0], Tag: tag[1], ID: shortID(full, o.noTrunc), Digest: digest,
				Size: humanSize(img.Size), Pinned: img.Pinned, fullID: full}
			if r.match(filters) {
				rows, matched = append(rows, r), true
			}
		}
		if matched {
			ids, kept = append(ids, img.Id), append(kept, img)
		}
	}
	if o.quiet || o.output != "table" {
		return o.emitData(ids, &runtime.ListImagesResponse{Images: kept})
	}
	return printRows(rows, imageColumns, o.format)
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
