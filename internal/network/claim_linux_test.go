package network

import (
	"strings"
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func TestClaimsKeepTwoBerthdApart(t *testing.T) {
	dir := t.TempDir()
	first, err := claimDefaultNetwork(dir, "berth0", "10.88.0.0/16", "pid 1, state /run/a")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ bridge, subnet, what string }{
		{"berth0", "10.88.0.0/16", "bridge berth0"},
		{"berth0", "10.77.0.0/16", "bridge berth0"},
		{"berth1", "10.88.0.0/16", "subnet 10.88.0.0/16"},
	} {
		_, err := claimDefaultNetwork(dir, c.bridge, c.subnet, "pid 2, state /run/b")
		if !errdefs.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), c.what) || !strings.Contains(err.Error(), "/run/a") {
			t.Errorf("%s %s: %v, want a refusal naming %s and the other berthd", c.bridge, c.subnet, err, c.what)
		}
	}
	apart, err := claimDefaultNetwork(dir, "berth1", "10.77.0.0/16", "pid 2, state /run/b")
	if err != nil {
		t.Fatalf("a berthd configured apart: %v", err)
	}
	apart.release()
	first.release()
	again, err := claimDefaultNetwork(dir, "berth0", "10.88.0.0/16", "pid 3, state /run/c")
	if err != nil {
		t.Fatalf("after the first released: %v", err)
	}
	again.release()
}
