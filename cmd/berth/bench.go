package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/berth-runtime/berth/internal/bench"
)

type benchOptions struct {
	vs         string
	image      string
	handler    string
	iterations int
	rounds     int
	pods       int
	scenarios  string
	output     string
	logDir     string
	pullImage  string
	idle       time.Duration
}

func newBenchCommand(g *globalOptions) *cobra.Command {
	o := &benchOptions{}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Time CRI scenarios on --endpoint (and --vs, alternating) and measure memory",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return runBench(g, o) },
	}
	f := cmd.Flags()
	f.StringVar(&o.vs, "vs", "", "a second CRI endpoint to compare with")
	f.StringVar(&o.image, "image", "busybox", "image the containers run (it must have sh)")
	f.StringVar(&o.handler, "runtime", "", "runtime handler for the pods")
	f.IntVarP(&o.iterations, "iterations", "n", 50, "samples per scenario and endpoint")
	f.IntVar(&o.rounds, "rounds", 5, "alternating batches the samples are split into")
	f.IntVar(&o.pods, "pods", 20, "pods for the memory figures (0: skip)")
	f.StringVar(&o.scenarios, "scenarios", "", "comma-separated subset of pod-start,container-start,exec-sync,exec-stream,stop-remove,pull,batch-10,batch-50,batch-100,list-100")
	f.StringVarP(&o.output, "output", "o", "table", "table or json")
	f.StringVar(&o.logDir, "log-dir", "/var/log/berth-bench", "pods' log directories go below this")
	f.StringVar(&o.pullImage, "pull-image", "", "image the pull scenario pulls cold (empty: skip pull)")
	f.DurationVar(&o.idle, "idle", 0, "how long the memory pods sit idle for the CPU figure (0: skip)")
	return cmd
}

func runBench(g *globalOptions, o *benchOptions) error {
	if err := format(o.output).validate("table", "json"); err != nil {
		return err
	}
	ctx := context.Background()
	var targets []*bench.Target
	for _, ep := range []string{g.endpoint, o.vs} {
		if ep == "" {
			continue
		}
		t, err := bench.Dial(ctx, ep)
		if err != nil {
			return err
		}
		defer t.Close()
		targets = append(targets, t)
	}
	var scenarios []string
	if o.scenarios != "" {
		scenarios = strings.Split(o.scenarios, ",")
	}
	r, err := bench.Run(ctx, targets, bench.Options{
		Config:     bench.Config{Image: o.image, Handler: o.handler, LogDir: o.logDir, PullImage: o.pullImage},
		Iterations: o.iterations, Rounds: o.rounds, MemoryPods: o.pods, IdleWindow: o.idle, Scenarios: scenarios,
	})
	if err != nil {
		return err
	}
	if o.output == "json" {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	fmt.Printf("berth bench: %d samples per figure in %d alternating rounds, image %s\n\n", o.iterations, o.rounds, o.image)
	return r.WriteTable(os.Stdout)
}
