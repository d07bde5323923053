package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"
	"google.golang.org/protobuf/types/known/structpb"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

type pullOptions struct {
	creds string // user:password
	quiet bool
}

func newPullCommand(g *globalOptions) *cobra.Command {
	o := &pullOptions{}
	cmd := &cobra.Command{
		Use:   "pull IMAGE",
		Short: "Pull an image from a registry",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runPull(g, o, args[0])
		},
	}
	cmd.Flags().StringVar(&o.creds, "creds", "", "registry credentials as USER:PASSWORD")
	cmd.Flags().BoolVarP(&o.quiet, "quiet", "q", false, "print only the image ID")
	return cmd
}

func runPull(g *globalOptions, o *pullOptions, ref string) error {
	c, err := g.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	req := &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}}
	if o.creds != "" {
		user, pass, ok := cutCreds(o.creds)
		if !ok {
			return fmt.Errorf("--creds: want USER:PASSWORD")
		}
		req.Auth = &runtime.AuthConfig{Username: user, Password: pass}
	}
	resp, err := c.pullWithProgress(ref, req, os.Stdout, o.quiet)
	if err != nil {
		return err
	}
	if o.quiet {
		fmt.Println(resp.ImageRef)
	} else {
		fmt.Printf("Pulled %s: %s\n", ref, resp.ImageRef)
	}
	return nil
}

// pullWithProgress pulls, drawing berthd's progress events on out (bars on
// a terminal, a line per layer step elsewhere) unless quiet.
func (c *client) pullWithProgress(ref string, req *runtime.PullImageRequest, out *os.File, quiet bool) (*runtime.PullImageResponse, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	var events <-chan *structpb.Struct
	if !quiet {
		events = c.watchPullProgress(ctx, ref)
	}
	type result struct {
		resp *runtime.PullImageResponse
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := c.Images.PullImage(ctx, req)
		done <- result{resp, err}
	}()
	view := newProgressView(out, term.IsTerminal(int(out.Fd())))
	var r result
	for waiting := true; waiting; {
		select {
		case ev, ok := <-events:
			if !ok {
				events = nil
				continue
			}
			view.update(ev)
		case r = <-done:
			waiting = false
		}
	}
	// Events sent before the pull returned may still be on their way: show
	// them (the stream ends after the pull's final event).
	drainUntil := time.After(time.Second)
	for events != nil {
		select {
		case ev, ok := <-events:
			if !ok || ev.Fields["finished"].GetBoolValue() {
				events = nil
				continue
			}
			view.update(ev)
		case <-drainUntil:
			events = nil
		}
	}
	if r.err != nil {
		return nil, c.explain(r.err)
	}
	return r.resp, nil
}

func cutCreds(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return s[:i], s[i+1:], i > 0
		}
	}
	return "", "", false
}
