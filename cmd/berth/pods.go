package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newRunPodCommand(g *globalOptions) *cobra.Command {
	var handler string
	cmd := &cobra.Command{
		Use:   "runp POD.json|yaml",
		Short: "Run a pod sandbox from a config file",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			cfg := &runtime.PodSandboxConfig{}
			if err := loadConfigFile(args[0], cfg); err != nil {
				return err
			}
			c, err := g.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			ctx, cancel := c.ctx()
			defer cancel()
			resp, err := c.Runtime.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: cfg, RuntimeHandler: handler})
			if err != nil {
				return c.explain(err)
			}
			fmt.Println(resp.PodSandboxId)
			return nil
		},
	}
	cmd.Flags().StringVarP(&handler, "runtime", "r", "", "runtime handler (runc, crun)")
	return cmd
}

func newStopPodCommand(g *globalOptions) *cobra.Command {
	return eachVerb(g, "stopp POD...", "Stop pods (by ID, ID prefix or name)", pods,
		func(c *client, ctx context.Context, id string) error {
			_, err := c.Runtime.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: id})
			return err
		})
}

func newRemovePodCommand(g *globalOptions) *cobra.Command {
	return eachVerb(g, "rmp POD...", "Remove pods and their containers", pods,
		func(c *client, ctx context.Context, id string) error {
			_, err := c.Runtime.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: id})
			return err
		})
}

type podsOptions struct {
	listFlags
	name string
}

func newPodsCommand(g *globalOptions) *cobra.Command {
	o := &podsOptions{}
	cmd := &cobra.Command{
		Use:   "pods",
		Short: "List pods",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return g.with(func(c *client) error { return c.pods(o) }) },
	}
	o.register(cmd, "pod")
	cmd.Flags().StringVar(&o.name, "name", "", "only pods with this name")
	return cmd
}

func (c *client) pods(o *podsOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	var resp *runtime.ListPodSandboxResponse
	if err := c.call(func(ctx context.Context) (err error) {
		resp, err = c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
		return err
	}); err != nil {
		return err
	}
	var items []*runtime.PodSandbox
	var ids []string
	for _, p := range resp.Items {
		if o.name == "" || p.GetMetadata().GetName() == o.name {
			items = append(items, p)
			ids = append(ids, p.Id)
		}
	}
	return o.emit(ids, &runtime.ListPodSandboxResponse{Items: items}, func(tw *tabwriter.Writer) {
		fmt.Fprintln(tw, "POD ID\tCREATED\tSTATE\tNAME\tNAMESPACE\tATTEMPT\tIP\tRUNTIME")
		for _, p := range items {
			m := p.GetMetadata()
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", shortID(p.Id, o.noTrunc), ago(p.CreatedAt),
				strings.TrimPrefix(p.State.String(), "SANDBOX_"), m.GetName(), m.GetNamespace(), m.GetAttempt(), c.podIP(p.Id), handlerName(p.RuntimeHandler))
		}
	})
}

func handlerName(h string) string {
	if h == "" {
		return "(default)"
	}
	return h
}

func shortID(id string, full bool) string {
	if !full && len(id) > 13 {
		return id[:13]
	}
	return id
}

// ago renders a CRI timestamp (ns) as docker does: "3 minutes ago".
func ago(ns int64) string {
	return humanDuration(time.Since(time.Unix(0, ns))) + " ago"
}

// podIP is a pod's primary IP, or "-" (the list call does not carry it).
func (c *client) podIP(id string) string {
	ctx, cancel := c.ctx()
	defer cancel()
	st, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil || st.GetStatus().GetNetwork().GetIp() == "" {
		return "-"
	}
	return st.Status.Network.Ip
}
