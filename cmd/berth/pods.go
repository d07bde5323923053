package main

import (
	"context"
	"fmt"
	"strings"
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
	name    string
	filters []string
	format  string
}

// podRow is one pod as `pods` shows it; --format templates see these
// fields.
type podRow struct {
	ID, Created, State, Name, Namespace, IP, Runtime string
	Attempt                                          uint32
	Labels                                           map[string]string
	fullID                                           string
}

var podColumns = []column{
	{"POD ID", "ID"}, {"CREATED", "Created"}, {"STATE", "State"}, {"NAME", "Name"}, {"NAMESPACE", "Namespace"},
	{"ATTEMPT", "Attempt"}, {"IP", "IP"}, {"RUNTIME", "Runtime"},
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
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "only pods matching: id=PREFIX, name=PART, namespace=NS, state=ready|notready, label=KEY[=VALUE]")
	cmd.Flags().StringVar(&o.format, "format", "", "print each pod with a Go template, e.g. '{{.Name}} {{.IP}}' ('table ...' adds a header)")
	return cmd
}

func parsePodFilters(specs []string) ([]listFilter, error) {
	return parseFilters(specs, []string{"id", "name", "namespace", "state", "label"}, func(k, v string) error {
		if k == "state" && v != "ready" && v != "notready" {
			return fmt.Errorf("state is ready or notready")
		}
		return nil
	})
}

func (r *podRow) match(filters []listFilter) bool {
	return matchFilters(filters, func(key, v string) bool {
		switch key {
		case "id":
			return strings.HasPrefix(r.fullID, v)
		case "name":
			return strings.Contains(r.Name, v)
		case "namespace":
			return r.Namespace == v
		case "state":
			return strings.EqualFold(r.State, v)
		case "label":
			return labelMatches(r.Labels, v)
		}
		return false
	})
}

func (c *client) pods(o *podsOptions) error {
	if err := o.validate(); err != nil {
		return err
	}
	filters, err := parsePodFilters(o.filters)
	if err != nil {
		return usage(err)
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
	var rows []*podRow
	for _, p := range resp.Items {
		m := p.GetMetadata()
		r := &podRow{ID: shortID(p.Id, o.noTrunc), Created: ago(p.CreatedAt), State: strings.TrimPrefix(p.State.String(), "SANDBOX_"),
			Name: m.GetName(), Namespace: m.GetNamespace(), Attempt: m.GetAttempt(), Runtime: handlerName(p.RuntimeHandler),
			Labels: p.Labels, fullID: p.Id}
		if (o.name != "" && m.GetName() != o.name) || !r.match(filters) {
			continue
		}
		items, ids, rows = append(items, p), append(ids, p.Id), append(rows, r)
	}
	if o.quiet || o.output != "table" {
		return o.emitData(ids, &runtime.ListPodSandboxResponse{Items: items})
	}
	for _, r := range rows {
		r.IP = c.podIP(r.fullID)
	}
	return printRows(rows, podColumns, o.format)
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
