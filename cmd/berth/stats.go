package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type statsOptions struct {
	noStream bool
	all      bool
	output   string
	interval time.Duration
}

func newStatsCommand(g *globalOptions) *cobra.Command {
	o := &statsOptions{}
	cmd := &cobra.Command{
		Use:   "stats [CONTAINER...]",
		Short: "Show containers' CPU, memory and writable layer use (live, like docker stats)",
		RunE: func(_ *cobra.Command, args []string) error {
			if err := format(o.output).validate("table", "json", "yaml"); err != nil {
				return err
			}
			return g.with(func(c *client) error { return c.stats(args, o) })
		},
	}
	cmd.Flags().BoolVar(&o.noStream, "no-stream", false, "print once and exit")
	cmd.Flags().BoolVarP(&o.all, "all", "a", false, "include containers that are not running")
	cmd.Flags().StringVarP(&o.output, "output", "o", "table", "table, json or yaml (json and yaml print once)")
	cmd.Flags().DurationVar(&o.interval, "interval", 2*time.Second, "refresh interval")
	return cmd
}

func (c *client) stats(args []string, o *statsOptions) error {
	var ids []string
	for _, a := range args {
		id, err := c.resolveContainer(a)
		if err != nil {
			return err
		}
		ids = append(ids, id)
	}
	for first := true; ; first = false {
		resp, names, err := c.collectStats(ids, o.all)
		if err != nil {
			return err
		}
		if o.output != "table" {
			return printStructured(os.Stdout, format(o.output), resp)
		}
		if !first {
			fmt.Print("\x1b[H\x1b[2J") // clear the screen, as docker stats does
		}
		printStatsTable(os.Stdout, resp.Stats, names)
		if o.noStream {
			return nil
		}
		time.Sleep(o.interval)
	}
}

// collectStats lists the stats of ids (or of every container) with names.
func (c *client) collectStats(ids []string, all bool) (*runtime.ListContainerStatsResponse, map[string]string, error) {
	out := &runtime.ListContainerStatsResponse{}
	names := map[string]string{}
	err := c.call(func(ctx context.Context) error {
		list, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{})
		if err != nil {
			return err
		}
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		for _, ctr := range list.Containers {
			running := ctr.State == runtime.ContainerState_CONTAINER_RUNNING
			if (len(ids) > 0 && !want[ctr.Id]) || (len(ids) == 0 && !all && !running) {
				continue
			}
			st, err := c.Runtime.ContainerStats(ctx, &runtime.ContainerStatsRequest{ContainerId: ctr.Id})
			if err != nil {
				return err
			}
			names[ctr.Id] = ctr.GetMetadata().GetName()
			out.Stats = append(out.Stats, st.Stats)
		}
		return nil
	})
	return out, names, err
}

func printStatsTable(w io.Writer, stats []*runtime.ContainerStats, names map[string]string) {
	tw := newTable()
	fmt.Fprintln(tw, "CONTAINER\tNAME\tCPU %\tMEM USAGE\tWORKING SET\tWRITABLE LAYER")
	for _, s := range stats {
		id := s.GetAttributes().GetId()
		cpu := float64(s.GetCpu().GetUsageNanoCores().GetValue()) / 1e7
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s\t%s\t%s\n", shortID(id, false), names[id], cpu,
			humanSize(s.GetMemory().GetUsageBytes().GetValue()), humanSize(s.GetMemory().GetWorkingSetBytes().GetValue()),
			humanSize(s.GetWritableLayer().GetUsedBytes().GetValue()))
	}
	tw.Flush()
}

func newEventsCommand(g *globalOptions) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "events",
		Short: "Print container events as they happen (Ctrl-C stops)",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			if err := format(output).validate("table", "json"); err != nil {
				return err
			}
			return g.with(func(c *client) error {
				stream, err := c.Runtime.GetContainerEvents(context.Background(), &runtime.GetEventsRequest{})
				if err != nil {
					return c.explain(err)
				}
				for {
					e, err := stream.Recv()
					if err != nil {
						return c.explain(err)
					}
					if output == "json" {
						printStructured(os.Stdout, "json", e)
						continue
					}
					name := ""
					for _, st := range e.ContainersStatuses {
						if st.Id == e.ContainerId {
							name = st.GetMetadata().GetName()
						}
					}
					fmt.Printf("%s %s %s %s pod=%s\n", time.Unix(0, e.CreatedAt).Format(time.RFC3339Nano),
						strings.TrimSuffix(strings.TrimPrefix(e.ContainerEventType.String(), "CONTAINER_"), "_EVENT"),
						shortID(e.ContainerId, false), name, shortID(e.GetPodSandboxStatus().GetId(), false))
				}
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "table or json")
	return cmd
}
