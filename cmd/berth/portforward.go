package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/transport/spdy"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newPortForwardCommand(g *globalOptions) *cobra.Command {
	var address string
	cmd := &cobra.Command{
		Use:   "port-forward POD [LOCAL:]REMOTE...",
		Short: "Forward local ports to ports inside a pod until interrupted",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error { return c.portForward(args[0], args[1:], address) })
		},
	}
	cmd.Flags().StringVar(&address, "address", "127.0.0.1", "local address to listen on")
	return cmd
}

func (c *client) portForward(podSpec string, ports []string, address string) error {
	podID, err := c.resolvePod(podSpec)
	if err != nil {
		return err
	}
	remotes, err := remotePorts(ports)
	if err != nil {
		return err
	}
	var resp *runtime.PortForwardResponse
	err = c.call(func(ctx context.Context) (err error) {
		resp, err = c.Runtime.PortForward(ctx, &runtime.PortForwardRequest{PodSandboxId: podID, Port: remotes})
		return err
	})
	if err != nil {
		return err
	}
	u, err := url.Parse(resp.Url)
	if err != nil {
		return err
	}
	rt, upgrader, err := spdy.RoundTripperFor(&restclient.Config{})
	if err != nil {
		return err
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, http.MethodPost, u)
	stop, ready := make(chan struct{}), make(chan struct{})
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	go func() { <-sigs; close(stop) }()
	fw, err := portforward.NewOnAddresses(dialer, []string{address}, ports, stop, ready, os.Stdout, os.Stderr)
	if err != nil {
		return err
	}
	return fw.ForwardPorts()
}

// remotePorts takes the pod side of each [LOCAL:]REMOTE.
func remotePorts(specs []string) ([]int32, error) {
	var out []int32
	for _, s := range specs {
		var local, remote int
		if _, err := fmt.Sscanf(s, "%d:%d", &local, &remote); err != nil {
			if _, err := fmt.Sscanf(s, "%d", &remote); err != nil {
				return nil, fmt.Errorf("port %q: want [LOCAL:]REMOTE", s)
			}
		}
		if remote <= 0 || remote > 65535 {
			return nil, fmt.Errorf("port %q: out of range", s)
		}
		out = append(out, int32(remote))
	}
	return out, nil
}
