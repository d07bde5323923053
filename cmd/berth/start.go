package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

type startOptions struct {
	attach, interactive bool
	timeout             int64
}

func newStartCommand(g *globalOptions) *cobra.Command {
	o := &startOptions{}
	cmd := &cobra.Command{
		Use:   "start [-a [-i]] CONTAINER...",
		Short: "Start created containers, or exited ones again with their files (docker's start)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return startContainers(g, o, args, false)
		},
	}
	cmd.Flags().BoolVarP(&o.attach, "attach", "a", false, "stay with the container: its output, then its exit code (one container)")
	cmd.Flags().BoolVarP(&o.interactive, "interactive", "i", false, "with -a: pass stdin to the container")
	return cmd
}

func newRestartCommand(g *globalOptions) *cobra.Command {
	o := &startOptions{}
	cmd := &cobra.Command{
		Use:   "restart [-t SECONDS] CONTAINER...",
		Short: "Stop containers (stop signal, then SIGKILL after the timeout) and start them again",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return startContainers(g, o, args, true)
		},
	}
	cmd.Flags().Int64VarP(&o.timeout, "timeout", "t", 10, "seconds before SIGKILL")
	return cmd
}

func startContainers(g *globalOptions, o *startOptions, args []string, stopFirst bool) error {
	if o.attach && len(args) != 1 {
		return usage(fmt.Errorf("-a takes one container"))
	}
	if o.interactive && !o.attach {
		return usage(fmt.Errorf("-i needs -a"))
	}
	c, err := g.connect()
	if err != nil {
		return runtimeFailure(err)
	}
	defer c.Close()
	from := time.Now()
	startOne := func(id string) error {
		return c.call(func(ctx context.Context) error {
			if stopFirst {
				if _, err := c.Runtime.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: o.timeout}); err != nil {
					return err
				}
			}
			return c.startContainer(ctx, id)
		})
	}
	if !o.attach {
		return forEach(args, c.resolveContainer, startOne)
	}
	id, err := c.resolveContainer(args[0])
	if err != nil {
		return err
	}
	if err := startOne(id); err != nil {
		return err
	}
	var podID string
	var tty bool
	err = c.call(func(ctx context.Context) (err error) {
		if tty, err = c.containerTTY(ctx, id); err != nil {
			return err
		}
		podID, err = c.runPodOf(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	return c.runUntilExit(id, podID, &runOptions{interactive: o.interactive, tty: tty, logsSince: from.Format(time.RFC3339Nano)})
}

// containerTTY tells whether the container was made with a terminal.
func (c *client) containerTTY(ctx context.Context, id string) (bool, error) {
	st, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
	if err != nil {
		return false, err
	}
	var info struct {
		Config struct {
			TTY bool `json:"tty"`
		} `json:"config"`
	}
	json.Unmarshal([]byte(st.GetInfo()["info"]), &info)
	return info.Config.TTY, nil
}

// startContainer starts a created container, or runs an exited one
// again (berth's own call: the CRI cannot).
func (c *client) startContainer(ctx context.Context, id string) error {
	st, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return err
	}
	if st.GetStatus().GetState() != runtime.ContainerState_CONTAINER_EXITED {
		_, err = c.Runtime.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: id})
		return err
	}
	_, err = c.unaryCtx(ctx, berthinfo.RestartMethod, map[string]any{"id": id})
	if status.Code(err) == codes.Unimplemented {
		return fmt.Errorf("the runtime at %s cannot start an exited container again (the CRI has no such call): create a new one", c.endpoint)
	}
	return err
}
