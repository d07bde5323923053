package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

// parseSignal reads KILL, SIGKILL or 9.
func parseSignal(s string) (syscall.Signal, error) {
	if n, err := strconv.Atoi(s); err == nil && n > 0 && n <= 64 {
		return syscall.Signal(n), nil
	}
	name := strings.ToUpper(s)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	if sig := unix.SignalNum(name); sig != 0 {
		return sig, nil
	}
	return 0, fmt.Errorf("-s %q: not a signal (a name such as TERM or HUP, or a number)", s)
}

func newKillCommand(g *globalOptions) *cobra.Command {
	var signal string
	var sig syscall.Signal
	cmd := eachVerb(g, "kill [-s SIGNAL] CONTAINER...", "Send a signal to running containers (default KILL)", containers,
		func(c *client, ctx context.Context, id string) error {
			in := map[string]any{"id": id, "signal": float64(sig)}
			_, err := c.unaryCtx(ctx, berthinfo.KillMethod, in)
			if status.Code(err) == codes.Unimplemented && sig == syscall.SIGKILL {
				// Another runtime: the CRI's stop with no grace is a SIGKILL.
				_, err = c.Runtime.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: 0})
			}
			if status.Code(err) == codes.Unimplemented {
				return fmt.Errorf("the runtime at %s can only stop containers (SIGKILL), not send %s", c.endpoint, unix.SignalName(sig))
			}
			return err
		})
	cmd.PreRunE = func(*cobra.Command, []string) (err error) {
		if sig, err = parseSignal(signal); err != nil {
			return usage(err)
		}
		return nil
	}
	cmd.Flags().StringVarP(&signal, "signal", "s", "KILL", "the signal: a name (TERM, HUP, ...) or a number")
	return cmd
}
