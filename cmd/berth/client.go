package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// client is a connection to a CRI endpoint.
type client struct {
	endpoint string
	conn     *grpc.ClientConn
	Images   runtime.ImageServiceClient
	Runtime  runtime.RuntimeServiceClient
	timeout  time.Duration
}

func (g *globalOptions) connect() (*client, error) {
	timeout, err := time.ParseDuration(g.timeout)
	if err != nil {
		return nil, fmt.Errorf("--timeout: %w", err)
	}
	target := g.endpoint
	if !strings.Contains(target, "://") {
		target = "unix://" + target
	}
	if path, ok := strings.CutPrefix(target, "unix://"); ok {
		if _, err := os.Stat(path); err != nil {
			return nil, notRunning(g.endpoint, err)
		}
	}
	conn, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(32<<20)))
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", g.endpoint, err)
	}
	return &client{endpoint: g.endpoint, conn: conn, timeout: timeout,
		Images: runtime.NewImageServiceClient(conn), Runtime: runtime.NewRuntimeServiceClient(conn)}, nil
}

func (c *client) Close() { c.conn.Close() }

// ctx bounds one call by the --timeout.
func (c *client) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), c.timeout)
}

// explain turns a transport failure into advice; other errors show the
// runtime's own message.
func (c *client) explain(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	if st.Code() == codes.Unavailable && strings.Contains(st.Message(), "connection error") {
		return notRunning(c.endpoint, errors.New(st.Message()))
	}
	return &callError{code: st.Code(), msg: st.Message()}
}

func notRunning(endpoint string, err error) error {
	return fmt.Errorf("cannot reach the runtime at %s (is berthd running? start it with `berthd` or `make run`): %v", endpoint, err)
}

// callError is a runtime's error, shown as "Code: message".
type callError struct {
	code codes.Code
	msg  string
}

func (e *callError) Error() string { return fmt.Sprintf("%s: %s", e.code, e.msg) }

// with connects, runs fn and closes the connection.
func (g *globalOptions) with(fn func(c *client) error) error {
	c, err := g.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}

// call runs one CRI call bounded by the timeout and explains its error.
func (c *client) call(fn func(ctx context.Context) error) error {
	ctx, cancel := c.ctx()
	defer cancel()
	return c.explain(fn(ctx))
}

// eachVerb builds a verb that resolves each argument (a container or a
// pod) and acts on it, printing each ID done.
func eachVerb(g *globalOptions, use, short string, resolve func(*client) func(string) (string, error),
	act func(c *client, ctx context.Context, id string) error) *cobra.Command {
	return &cobra.Command{
		Use: use, Short: short, Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error {
				return forEach(args, resolve(c), func(id string) error {
					return c.call(func(ctx context.Context) error { return act(c, ctx, id) })
				})
			})
		},
	}
}

func containers(c *client) func(string) (string, error) { return c.resolveContainer }
func pods(c *client) func(string) (string, error)       { return c.resolvePod }
