package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/crilog"
)

type logsOptions struct {
	follow     bool
	tail       int
	since      string
	timestamps bool
}

func newLogsCommand(g *globalOptions) *cobra.Command {
	o := &logsOptions{}
	cmd := &cobra.Command{
		Use:   "logs CONTAINER",
		Short: "Print a container's logs (read from its CRI log file on this node)",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := g.connect()
			if err != nil {
				return err
			}
			defer c.Close()
			id, err := c.resolveContainer(args[0])
			if err != nil {
				return err
			}
			return c.printLogs(id, o, os.Stdout, os.Stderr)
		},
	}
	cmd.Flags().BoolVarP(&o.follow, "follow", "f", false, "keep printing new lines until the container exits")
	cmd.Flags().IntVar(&o.tail, "tail", -1, "only the last N lines")
	cmd.Flags().StringVar(&o.since, "since", "", "only lines since a time (RFC3339) or a duration ago (10m)")
	cmd.Flags().BoolVarP(&o.timestamps, "timestamps", "t", false, "show each line's timestamp")
	return cmd
}

func parseSince(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return time.Now().Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return time.Unix(n, 0), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want a duration (10m) or an RFC3339 time", s)
}

func (c *client) printLogs(id string, o *logsOptions, stdout, stderr io.Writer) error {
	since, err := parseSince(o.since)
	if err != nil {
		return err
	}
	st, err := c.containerStatus(id)
	if err != nil {
		return err
	}
	if st.LogPath == "" {
		return fmt.Errorf("container %s has no log file (its pod has no log directory)", id)
	}
	emit := func(m *crilog.Message) {
		if m.Time.Before(since) {
			return
		}
		w := stdout
		if m.Stream == "stderr" {
			w = stderr
		}
		if o.timestamps {
			fmt.Fprintf(w, "%s ", m.Time.Format(time.RFC3339Nano))
		}
		if m.Partial { // the container wrote no newline: neither does berth
			w.Write(m.Text)
			return
		}
		w.Write(append(m.Text, '\n'))
	}
	// Following: what is read first and where the follow starts come from
	// one read, so no line written in between is lost.
	var msgs []*crilog.Message
	var offset int64
	if o.follow {
		msgs, offset, err = crilog.ReadComplete(st.LogPath)
	} else {
		msgs, err = crilog.ReadAll(st.LogPath)
	}
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	if o.tail >= 0 && len(msgs) > o.tail {
		msgs = msgs[len(msgs)-o.tail:]
	}
	for _, m := range msgs {
		emit(m)
	}
	if !o.follow {
		return nil
	}
	return crilog.Follow(st.LogPath, offset, emit, func() bool {
		s, err := c.containerStatus(id)
		return err != nil || s.State == runtime.ContainerState_CONTAINER_EXITED
	})
}

func (c *client) containerStatus(id string) (*runtime.ContainerStatus, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id})
	if err != nil {
		return nil, c.explain(err)
	}
	return resp.Status, nil
}
