package bench

import (
	"context"
	"fmt"
	"time"
)

// Options is one benchmark run.
type Options struct {
	Config     Config
	Iterations int           // samples per scenario and target
	Rounds     int           // the samples are taken in this many alternating batches
	MemoryPods int           // pods for the memory figures (0: skip)
	IdleWindow time.Duration // how long those pods sit idle for the CPU figure (0: skip)
	Scenarios  []string
}

// Figure is one scenario's statistics per target.
type Figure struct {
	Name   string           `json:"name"`
	Stats  map[string]Stats `json:"stats"`            // by target label
	Target float64          `json:"target,omitempty"` // wanted p50 ratio, first target to second
}

// Report is a whole run.
type Report struct {
	Date    time.Time                 `json:"date"`
	Targets []string                  `json:"targets"` // labels: "berth", "containerd"
	Figures []Figure                  `json:"figures"`
	Memory  map[string]*MemoryFigures `json:"memory,omitempty"`
}

// Run runs every scenario against every target, alternating targets
// batch by batch (A B A B ...) so that drift of the machine hits all alike.
func Run(ctx context.Context, targets []*Target, o Options) (*Report, error) {
	r := &Report{Date: time.Now().UTC(), Memory: map[string]*MemoryFigures{}}
	for _, t := range targets {
		if err := t.Prepare(ctx, o.Config.Image); err != nil {
			return nil, err
		}
		// One untimed cycle: a runtime's first pod may pull its sandbox
		// image or warm caches.
		if _, err := stopRemove(ctx, t, &o.Config, 1); err != nil {
			return nil, fmt.Errorf("warm-up: %w", err)
		}
		r.Targets = append(r.Targets, label(t, targets))
	}
	rounds := max(o.Rounds, 1)
	for _, sc := range selected(o.Scenarios) {
		per := max(o.Iterations/max(sc.Divisor, 1)/rounds, 1)
		samples := map[string][]time.Duration{}
		err := alternate(rounds, len(targets), func(i int) error {
			t := targets[i]
			s, err := sc.Run(ctx, t, &o.Config, per)
			samples[label(t, targets)] = append(samples[label(t, targets)], s...)
			return err
		})
		if err != nil {
			return r, fmt.Errorf("%s: %w", sc.Name, err)
		}
		f := Figure{Name: sc.Name, Stats: map[string]Stats{}, Target: sc.Target}
		for l, s := range samples {
			f.Stats[l] = Summarise(s)
		}
		r.Figures = append(r.Figures, f)
	}
	if o.MemoryPods > 0 {
		for _, t := range targets {
			m, err := MeasureMemory(ctx, t, &o.Config, o.MemoryPods, o.IdleWindow)
			if err != nil {
				return r, fmt.Errorf("memory: %w", err)
			}
			r.Memory[label(t, targets)] = m
		}
	}
	return r, nil
}

// label names a target by its runtime, or by its position when two
// targets are the same runtime.
func label(t *Target, all []*Target) string {
	for i, o := range all {
		if o != t && o.Name == t.Name {
			for j, x := range all {
				if x == t {
					return fmt.Sprintf("%s#%d", t.Name, j+1)
				}
			}
			_ = i
		}
	}
	return t.Name
}

func selected(names []string) []Scenario {
	if len(names) == 0 {
		return Scenarios
	}
	return pick(names)
}

func pick(names []string) []Scenario {
	var out []Scenario
	for _, sc := range Scenarios {
		for _, n := range names {
			if sc.Name == n {
				out = append(out, sc)
			}
		}
	}
	return out
}

// alternate runs batch for targets 0..n-1 in turn, rounds times: A B A B,
// so that drift of the machine (heat, caches, other load) hits all alike.
func alternate(rounds, n int, batch func(target int) error) error {
	for round := 0; round < rounds; round++ {
		for i := 0; i < n; i++ {
			if err := batch(i); err != nil {
				return err
			}
		}
	}
	return nil
}
