package stats

import (
	"os"
	"testing"
	"time"
)

func TestNanoCores(t *testing.T) {
	var r rates
	t0 := time.Unix(100, 0)
	if got := r.nanoCores("c", &Sample{Time: t0, CPUUsageNanos: 1e9}); got != 0 {
		t.Fatalf("first sample: %d", got)
	}
	// Half a core over two seconds.
	if got := r.nanoCores("c", &Sample{Time: t0.Add(2 * time.Second), CPUUsageNanos: 2e9}); got != 5e8 {
		t.Fatalf("rate %d, want 5e8", got)
	}
	r.Forget("c")
	if got := r.nanoCores("c", &Sample{Time: t0.Add(3 * time.Second), CPUUsageNanos: 3e9}); got != 0 {
		t.Fatalf("after Forget: %d", got)
	}
}

func TestNetDevOfThisProcess(t *testing.T) {
	ifaces, err := NetDev(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, i := range ifaces {
		found = found || i.Name == "lo"
	}
	if !found {
		t.Fatalf("no lo in %+v", ifaces)
	}
}

func TestWorkingSet(t *testing.T) {
	if workingSet(100, 30) != 70 || workingSet(10, 30) != 0 {
		t.Fatal("working set")
	}
}
