package network

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
)

// defaultConfList is berth's own network: a bridge with host-local IPAM
// (allocations kept in berth's state dir), portmap for hostPorts and
// bandwidth for the bandwidth annotations. Loopback is set up by berth
// itself. Masquerading is one rule for the whole subnet (ensureMasquerade)
// rather than the bridge plugin's per-pod chain: that chain costs about
// 20 ms on every pod start and 45 ms on every stop here.
func (m *Manager) defaultConfList() []byte {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "berth",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": m.opts.Bridge, "isGateway": true, "ipMasq": false, "hairpinMode": true,
				"ipam": map[string]any{
					"type":    "host-local",
					"ranges":  [][]map[string]string{{{"subnet": m.opts.Subnet}}},
					"routes":  []map[string]string{{"dst": "0.0.0.0/0"}},
					"dataDir": filepath.Join(m.opts.StateDir, "ipam"),
				},
			},
			map[string]any{"type": "portmap", "capabilities": map[string]bool{"portMappings": true}, "snat": true},
			map[string]any{"type": "bandwidth", "capabilities": map[string]bool{"bandwidth": true}},
		},
	}
	data, _ := json.Marshal(conf)
	return data
}

// masqueradeComment marks berth's one masquerade rule.
const masqueradeComment = "berth default network"

// ensureMasquerade installs, once, the rule that lets pods of the default
// network reach beyond the node.
func (m *Manager) ensureMasquerade() error {
	rule := []string{"POSTROUTING", "-s", m.opts.Subnet, "!", "-d", m.opts.Subnet,
		"-m", "comment", "--comment", masqueradeComment, "-j", "MASQUERADE"}
	if exec.Command("iptables", append([]string{"-t", "nat", "-C"}, rule...)...).Run() == nil {
		return nil
	}
	if out, err := exec.Command("iptables", append([]string{"-t", "nat", "-A"}, rule...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("masquerade rule for %s: %v: %s", m.opts.Subnet, err, out)
	}
	return nil
}
