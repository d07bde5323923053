package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Prune and disk usage, as docker's `image prune`, `container prune`,
// `system prune` and `system df`, over the CRI.

// pruneVerb is a `prune [-a]` verb; act gets -a (every unused image, not
// only untagged ones).
func pruneVerb(g *globalOptions, short string, act func(c *client, all bool) error) *cobra.Command {
	var all bool
	prune := &cobra.Command{
		Use: "prune [-a]", Short: short, Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.with(func(c *client) error { return act(c, all) })
		},
	}
	prune.Flags().BoolVarP(&all, "all", "a", false, "every image no container uses, not only untagged ones")
	return prune
}

func newImageCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "image", Short: "Image housekeeping (prune)"}
	cmd.AddCommand(pruneVerb(g, "Remove images no container uses: untagged ones, or every unused one with -a",
		func(c *client, all bool) error {
			n, size, err := c.pruneImages(all)
			fmt.Printf("Deleted %d images, reclaimed space: %s\n", n, humanSize(size))
			return err
		}))
	return cmd
}

func newContainerCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "container", Short: "Container housekeeping (prune)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "prune",
		Short: "Remove every exited container (with its pod, for `berth run` containers)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			return g.with(func(c *client) error {
				n, err := c.pruneContainers()
				fmt.Printf("Deleted %d containers\n", n)
				return err
			})
		},
	})
	return cmd
}

func newSystemCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{Use: "system", Short: "Disk usage (df) and housekeeping (prune)"}
	prune := pruneVerb(g, "Remove exited containers, stopped pods and untagged images (-a: every unused image)",
		func(c *client, all bool) error {
			ctrs, err := c.pruneContainers()
			if err != nil {
				return err
			}
			pods, err := c.prunePods()
			if err != nil {
				return err
			}
			imgs, size, err := c.pruneImages(all)
			fmt.Printf("Deleted %d containers, %d pods, %d images; reclaimed image space: %s\n", ctrs, pods, imgs, humanSize(size))
			return err
		})
	df := &cobra.Command{
		Use:   "df",
		Short: "Show the disk space images and containers use",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return g.with(func(c *client) error { return c.systemDF() }) },
	}
	cmd.AddCommand(prune, df)
	return cmd
}

// usedImages are the image IDs (and references) the containers use.
func (c *client) usedImages(ctx context.Context) (map[string]bool, error) {
	ctrs, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{})
	if err != nil {
		return nil, err
	}
	used := map[string]bool{}
	for _, ctr := range ctrs.Containers {
		used[ctr.GetImage().GetImage()] = true
		used[ctr.ImageRef] = true
		used[ctr.GetImageId()] = true
	}
	return used, nil
}

// imageUsed tells whether a container uses img, by its ID or any name.
func imageUsed(img *runtime.Image, used map[string]bool) bool {
	if used[img.Id] {
		return true
	}
	for _, r := range append(append([]string{}, img.RepoTags...), img.RepoDigests...) {
		if used[r] {
			return true
		}
	}
	return false
}

func (c *client) pruneImages(all bool) (n int, size uint64, err error) {
	err = c.call(func(ctx context.Context) error {
		used, err := c.usedImages(ctx)
		if err != nil {
			return err
		}
		imgs, err := c.Images.ListImages(ctx, &runtime.ListImagesRequest{})
		if err != nil {
			return err
		}
		for _, img := range imgs.Images {
			if imageUsed(img, used) || img.Pinned || (!all && len(img.RepoTags) > 0) {
				continue
			}
			if _, err := c.Images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: img.Id}}); err != nil {
				return err
			}
			fmt.Println("Deleted:", img.Id)
			n++
			size += img.Size
		}
		return nil
	})
	return n, size, err
}

func (c *client) pruneContainers() (n int, err error) {
	err = c.call(func(ctx context.Context) error {
		ctrs, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{
			State: &runtime.ContainerStateValue{State: runtime.ContainerState_CONTAINER_EXITED}}})
		if err != nil {
			return err
		}
		for _, ctr := range ctrs.Containers {
			podID, err := c.runPodOf(ctx, ctr.Id)
			if err != nil {
				return err
			}
			if podID != "" {
				err = c.removeRunPodCtx(ctx, podID)
			} else {
				_, err = c.Runtime.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: ctr.Id})
			}
			if err != nil {
				return err
			}
			fmt.Println("Deleted:", ctr.Id)
			n++
		}
		return nil
	})
	return n, err
}

// prunePods removes stopped pods (their containers with them).
func (c *client) prunePods() (n int, err error) {
	err = c.call(func(ctx context.Context) error {
		pods, err := c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{
			State: &runtime.PodSandboxStateValue{State: runtime.PodSandboxState_SANDBOX_NOTREADY}}})
		if err != nil {
			return err
		}
		for _, p := range pods.Items {
			if err := c.removeRunPodCtx(ctx, p.Id); err != nil {
				return err
			}
			fmt.Println("Deleted pod:", p.Id)
			n++
		}
		return nil
	})
	return n, err
}

// systemDF is docker's table: TYPE TOTAL ACTIVE SIZE RECLAIMABLE, for
// images (active: used by a container) and containers (their writable
// layers; active: running).
func (c *client) systemDF() error {
	type row struct {
		total, active     int
		size, reclaimable uint64
	}
	var imgRow, ctrRow row
	err := c.call(func(ctx context.Context) error {
		used, err := c.usedImages(ctx)
		if err != nil {
			return err
		}
		imgs, err := c.Images.ListImages(ctx, &runtime.ListImagesRequest{})
		if err != nil {
			return err
		}
		for _, img := range imgs.Images {
			imgRow.total++
			imgRow.size += img.Size
			if imageUsed(img, used) {
				imgRow.active++
			} else {
				imgRow.reclaimable += img.Size
			}
		}
		ctrs, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{})
		if err != nil {
			return err
		}
		stats, err := c.Runtime.ListContainerStats(ctx, &runtime.ListContainerStatsRequest{})
		if err != nil {
			return err
		}
		writable := map[string]uint64{}
		for _, s := range stats.Stats {
			writable[s.GetAttributes().GetId()] = s.GetWritableLayer().GetUsedBytes().GetValue()
		}
		for _, ctr := range ctrs.Containers {
			ctrRow.total++
			ctrRow.size += writable[ctr.Id]
			if ctr.State == runtime.ContainerState_CONTAINER_RUNNING {
				ctrRow.active++
			} else {
				ctrRow.reclaimable += writable[ctr.Id]
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	tw := newTable()
	fmt.Fprintln(tw, "TYPE\tTOTAL\tACTIVE\tSIZE\tRECLAIMABLE")
	for _, r := range []struct {
		name string
		row
	}{{"Images", imgRow}, {"Containers", ctrRow}} {
		pct := 0
		if r.size > 0 {
			pct = int(r.reclaimable * 100 / r.size)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s (%d%%)\n", r.name, r.total, r.active, humanSize(r.size), humanSize(r.reclaimable), pct)
	}
	return tw.Flush()
}
