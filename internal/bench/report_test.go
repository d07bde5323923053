package bench

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestReportTableShowsRatiosAndTargets(t *testing.T) {
	r := &Report{
		Targets: []string{"berth", "containerd"},
		Figures: []Figure{{Name: "pod-start", Target: 0.5, Stats: map[string]Stats{
			"berth": {Count: 10, P50: 40 * time.Millisecond}, "containerd": {Count: 10, P50: 100 * time.Millisecond},
		}}, {Name: "stop-remove", Target: 0.5, Stats: map[string]Stats{
			"berth": {Count: 10, P50: 90 * time.Millisecond}, "containerd": {Count: 10, P50: 100 * time.Millisecond},
		}}},
		Memory: map[string]*MemoryFigures{
			"berth":      {Pods: 20, DaemonWithPods: Memory{RSS: 20e6}, MonitorsPerPod: Memory{RSS: 2e6, PSS: 5e5}},
			"containerd": {Pods: 20, DaemonWithPods: Memory{RSS: 65e6}, MonitorsPerPod: Memory{RSS: 13.5e6}},
		},
	}
	var b strings.Builder
	if err := r.WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{"pod-start", "40.0ms", "0.40x", "<= 0.5x met", "0.90x", "MISSED", "2.00MB", "ratio 0.31x"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
	data, err := json.Marshal(r)
	if err != nil || !strings.Contains(string(data), `"p50":40000000`) {
		t.Fatalf("json %s %v", data, err)
	}
}

func TestLabelDistinguishesSameRuntime(t *testing.T) {
	a, b := &Target{Name: "berth"}, &Target{Name: "berth"}
	c := &Target{Name: "containerd"}
	if label(a, []*Target{a, b}) != "berth#1" || label(b, []*Target{a, b}) != "berth#2" || label(a, []*Target{a, c}) != "berth" {
		t.Fatal("labels")
	}
}
