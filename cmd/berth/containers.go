package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newCreateCommand(g *globalOptions) *cobra.Command {
	var podConfig string
	o := &runOptions{}
	cmd := &cobra.Command{
		Use: "create [flags] IMAGE [COMMAND [ARG...]] | create POD CONTAINER.json|yaml [IMAGE]",
		Short: "Create a container without starting it: docker's form (a pod of its own, run's flags) " +
			"or crictl's (in POD, from a config file; IMAGE overrides the file's)",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isConfigForm(args) {
				if podConfig != "" {
					return usage(fmt.Errorf("--pod-config goes with crictl's form: create POD CONTAINER.json [IMAGE]"))
				}
				o.entrypointSet = cmd.Flags().Changed("entrypoint")
				o.detach = true // created, not followed: --rm is berthd's to do when it exits
				return g.with(func(c *client) error {
					id, _, err := c.createRun(o, args[0], args[1:], false)
					if err == nil {
						fmt.Println(id)
					}
					return err
				})
			}
			return createFromFile(g, args, podConfig)
		},
	}
	addRunFlags(cmd.Flags(), o)
	cmd.Flags().StringVar(&podConfig, "pod-config", "", "crictl's form: the pod's config file (as given to runp); default: rebuilt from the pod's status")
	return cmd
}

// isConfigForm tells crictl's form of create (POD CONFIG-FILE [IMAGE])
// from docker's (IMAGE [COMMAND...]): the second argument names a JSON or
// YAML file that exists.
func isConfigForm(args []string) bool {
	if len(args) < 2 || len(args) > 3 {
		return false
	}
	switch filepath.Ext(args[1]) {
	case ".json", ".yaml", ".yml":
		fi, err := os.Stat(args[1])
		return err == nil && fi.Mode().IsRegular()
	}
	return false
}

func createFromFile(g *globalOptions, args []string, podConfig string) error {
	cfg := &runtime.ContainerConfig{}
	if err := loadConfigFile(args[1], cfg); err != nil {
		return err
	}
	if len(args) == 3 {
		cfg.Image = &runtime.ImageSpec{Image: args[2]}
	}
	c, err := g.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	podID, err := c.resolvePod(args[0])
	if err != nil {
		return err
	}
	var sandbox *runtime.PodSandboxConfig
	if podConfig != "" {
		sandbox = &runtime.PodSandboxConfig{}
		if err := loadConfigFile(podConfig, sandbox); err != nil {
			return err
		}
	}
	id, err := c.createContainer(podID, cfg, sandbox)
	if err != nil {
		return err
	}
	fmt.Println(id)
	return nil
}

// createContainer creates cfg in podID, passing the pod's config along as
// the CRI asks (other runtimes read its log directory and metadata from
// it). Without one, it is rebuilt from what the pod's status tells.
func (c *client) createContainer(podID string, cfg *runtime.ContainerConfig, sandbox *runtime.PodSandboxConfig) (string, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	if sandbox == nil {
		st, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
		if err != nil {
			return "", c.explain(err)
		}
		sandbox = &runtime.PodSandboxConfig{Metadata: st.GetStatus().GetMetadata(), Labels: st.GetStatus().GetLabels(),
			Annotations: st.GetStatus().GetAnnotations(), Linux: &runtime.LinuxPodSandboxConfig{
				SecurityContext: &runtime.LinuxSandboxSecurityContext{NamespaceOptions: st.GetStatus().GetLinux().GetNamespaces().GetOptions()}}}
	}
	resp, err := c.Runtime.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: sandbox})
	if err != nil {
		return "", c.explain(err)
	}
	return resp.ContainerId, nil
}

func newStopCommand(g *globalOptions) *cobra.Command {
	var timeout int64
	cmd := eachVerb(g, "stop CONTAINER...", "Stop containers: stop signal, then SIGKILL after the timeout", containers,
		func(c *client, ctx context.Context, id string) error {
			_, err := c.Runtime.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: timeout})
			if err != nil {
				return err
			}
			// A `berth run` container's pod stops with it (its IP and host
			// ports are freed); rm removes both.
			podID, err := c.runPodOf(ctx, id)
			if err != nil || podID == "" {
				return err
			}
			_, err = c.Runtime.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: podID})
			return err
		})
	cmd.Flags().Int64VarP(&timeout, "timeout", "t", 10, "seconds before SIGKILL")
	return cmd
}

func newRemoveCommand(g *globalOptions) *cobra.Command {
	var force bool
	cmd := eachVerb(g, "rm CONTAINER...", "Remove containers (-f also running ones)", containers,
		func(c *client, ctx context.Context, id string) error {
			if !force {
				st, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id})
				if err != nil {
					return err
				}
				if st.Status.State == runtime.ContainerState_CONTAINER_RUNNING {
					return fmt.Errorf("container is running: stop it first or use -f")
				}
			}
			// A `berth run` container takes its pod along: its IP, host
			// ports and namespaces go with it.
			podID, err := c.runPodOf(ctx, id)
			if err != nil {
				return err
			}
			if podID != "" {
				return c.removeRunPodCtx(ctx, podID)
			}
			_, err = c.Runtime.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: id})
			return err
		})
	cmd.Flags().BoolVarP(&force, "force", "f", false, "remove running containers too")
	return cmd
}

type psOptions struct {
	listFlags
	all     bool
	pod     string
	filters []string
	format  string
}

func newPsCommand(g *globalOptions) *cobra.Command {
	o := &psOptions{}
	cmd := &cobra.Command{
		Use:   "ps",
		Short: "List containers (running ones unless -a), as docker ps does",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return g.with(func(c *client) error { return c.ps(o) }) },
	}
	o.register(cmd, "container")
	cmd.Flags().BoolVarP(&o.all, "all", "a", false, "all containers, not only running ones")
	cmd.Flags().StringVarP(&o.pod, "pod", "p", "", "only containers of this pod")
	cmd.Flags().StringArrayVarP(&o.filters, "filter", "f", nil, "status=, name=, id=, label=K[=V], pod=, exited=CODE, ancestor=IMAGE")
	cmd.Flags().StringVar(&o.format, "format", "", `a Go template of the row's fields (.ID .Image .Command .CreatedAt .RunningFor .Status .State .Ports .Names .Pod .ExitCode .Labels); "table " in front adds the header`)
	return cmd
}

func (c *client) ps(o *psOptions) (err error) {
	if err := o.validate(); err != nil {
		return usage(err)
	}
	filters, err := parsePsFilters(o.filters)
	if err != nil {
		return usage(err)
	}
	filter := &runtime.ContainerFilter{}
	if !o.all {
		filter.State = &runtime.ContainerStateValue{State: runtime.ContainerState_CONTAINER_RUNNING}
	}
	if o.pod != "" {
		if filter.PodSandboxId, err = c.resolvePod(o.pod); err != nil {
			return err
		}
	}
	var resp *runtime.ListContainersResponse
	var rows []*psRow
	if err := c.call(func(ctx context.Context) (err error) {
		if resp, err = c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{Filter: filter}); err != nil {
			return err
		}
		rows = c.psRows(ctx, resp.Containers, o.noTrunc || o.quiet)
		return nil
	}); err != nil {
		return err
	}
	var kept []*psRow
	var keptCtrs []*runtime.Container
	for _, r := range rows {
		if r.match(filters) {
			kept = append(kept, r)
		}
	}
	ids := map[string]bool{}
	var idList []string
	for _, r := range kept {
		ids[r.ID] = true
		idList = append(idList, r.ID)
	}
	for _, ctr := range resp.Containers {
		if ids[ctr.Id] || ids[shortID(ctr.Id, o.noTrunc || o.quiet)] {
			keptCtrs = append(keptCtrs, ctr)
		}
	}
	switch {
	case o.quiet:
		for _, id := range idList {
			fmt.Println(id)
		}
		return nil
	case o.output != "table":
		return printStructured(os.Stdout, format(o.output), &runtime.ListContainersResponse{Containers: keptCtrs})
	}
	return printRows(kept, psColumns, o.format)
}

func newExecCommand(g *globalOptions) *cobra.Command {
	var timeout int64
	o := streamOptions{}
	cmd := &cobra.Command{
		Use:   "exec [-i] [-t] CONTAINER COMMAND [ARG...]",
		Short: "Run a command in a running container (-i: with stdin, -t: on a terminal)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error {
				id, err := c.resolveContainer(args[0])
				if err != nil {
					return err
				}
				if o.stdin || o.tty {
					return c.execInteractive(id, args[1:], o)
				}
				return c.execSync(id, args[1:], timeout)
			})
		},
	}
	f := cmd.Flags()
	f.Int64Var(&timeout, "timeout", 0, "seconds before a non-interactive command is killed (0: none)")
	f.BoolVarP(&o.stdin, "interactive", "i", false, "pass stdin to the command")
	f.BoolVarP(&o.tty, "tty", "t", false, "run the command on a terminal")
	f.BoolVar(&o.websocket, "websocket", false, "stream over WebSocket instead of SPDY")
	f.SetInterspersed(false)
	return cmd
}

func (c *client) execSync(id string, cmd []string, timeout int64) error {
	var resp *runtime.ExecSyncResponse
	err := c.call(func(ctx context.Context) (err error) {
		resp, err = c.Runtime.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: id, Cmd: cmd, Timeout: timeout})
		return err
	})
	if err != nil {
		return err
	}
	os.Stdout.Write(resp.Stdout)
	os.Stderr.Write(resp.Stderr)
	if resp.ExitCode != 0 {
		return exitError(resp.ExitCode)
	}
	return nil
}

func (c *client) execInteractive(id string, cmd []string, o streamOptions) error {
	var resp *runtime.ExecResponse
	err := c.call(func(ctx context.Context) (err error) {
		resp, err = c.Runtime.Exec(ctx, &runtime.ExecRequest{ContainerId: id, Cmd: cmd, Tty: o.tty, Stdin: o.stdin, Stdout: true, Stderr: !o.tty})
		return err
	})
	if err != nil {
		return err
	}
	return runSession(resp.Url, o)
}

func newAttachCommand(g *globalOptions) *cobra.Command {
	o := streamOptions{}
	cmd := &cobra.Command{
		Use:   "attach [-i] [-t] CONTAINER",
		Short: "Attach to a running container's output (and stdin with -i)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error {
				id, err := c.resolveContainer(args[0])
				if err != nil {
					return err
				}
				var resp *runtime.AttachResponse
				err = c.call(func(ctx context.Context) (err error) {
					resp, err = c.Runtime.Attach(ctx, &runtime.AttachRequest{ContainerId: id, Stdin: o.stdin, Tty: o.tty, Stdout: true, Stderr: !o.tty})
					return err
				})
				if err != nil {
					return err
				}
				return runSession(resp.Url, o)
			})
		},
	}
	cmd.Flags().BoolVarP(&o.stdin, "interactive", "i", false, "pass stdin to the container (it must have been created with stdin)")
	cmd.Flags().BoolVarP(&o.tty, "tty", "t", false, "the container has a terminal")
	cmd.Flags().BoolVar(&o.websocket, "websocket", false, "stream over WebSocket instead of SPDY")
	return cmd
}

// exitError makes berth exit with a container's or command's exit code.
type exitError int32

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int32(e)) }
