package network

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// DefaultClaimDir holds the host-wide claims on default-network bridges
// and subnets: two berthd on one host (only --root, --state and --listen
// apart) would otherwise share a bridge and hand out the same pod IPs from
// two IPAM stores.
const DefaultClaimDir = "/run/berth-networks"

// claim holds the claims of one berthd until it exits (flock: a crashed
// berthd releases them with its last fd).
type claim struct{ files []*os.File }

// claimDefaultNetwork claims bridge and subnet for owner (a description
// of this berthd), or names the berthd that holds either.
func claimDefaultNetwork(dir, bridge, subnet, owner string) (*claim, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	c := &claim{}
	for _, name := range []string{"bridge-" + bridge, "subnet-" + strings.NewReplacer("/", "_", ":", "-").Replace(subnet)} {
		path := filepath.Join(dir, name+".lock")
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			c.release()
			return nil, err
		}
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
			holder, _ := os.ReadFile(path)
			f.Close()
			c.release()
			what := "bridge " + bridge
			if strings.HasPrefix(name, "subnet-") {
				what = "subnet " + subnet
			}
			return nil, errdefs.FailedPrecondition("the default network's %s is in use by another berthd (%s); give this one its own network.bridge and network.subnet, or set network.default_network = false",
				what, strings.TrimSpace(string(holder)))
		}
		f.Truncate(0)
		f.WriteAt([]byte(owner+"\n"), 0)
		c.files = append(c.files, f)
	}
	return c, nil
}

func (c *claim) release() {
	if c == nil {
		return
	}
	for _, f := range c.files {
		f.Close()
	}
	c.files = nil
}

func ownerString(stateDir string) string {
	return fmt.Sprintf("pid %d, state %s", os.Getpid(), filepath.Dir(stateDir))
}
