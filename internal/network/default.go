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

// masqueradeComment marks berth's masquerade rules.
const masqueradeComment = "berth default network"

// masqueradeRules are the nat POSTROUTING rules of the default network:
// first a RETURN for each destination that must see the pod's own IP
// (NoMasquerade: other nodes' pod subnets, so pod-to-pod traffic across
// nodes is not NATed, as the Kubernetes network model asks), then the
// MASQUERADE that lets pods reach beyond the node.
func (m *Manager) masqueradeRules() (returns [][]string, masquerade []string) {
	for _, cidr := range m.opts.NoMasquerade {
		returns = append(returns, []string{"POSTROUTING", "-s", m.opts.Subnet, "-d", cidr,
			"-m", "comment", "--comment", masqueradeComment, "-j", "RETURN"})
	}
	masquerade = []string{"POSTROUTING", "-s", m.opts.Subnet, "!", "-d", m.opts.Subnet,
		"-m", "comment", "--comment", masqueradeComment, "-j", "MASQUERADE"}
	return returns, masquerade
}

// ensureMasquerade installs, once, the default network's masquerade rules:
// the RETURNs go first in the chain, the MASQUERADE last.
func (m *Manager) ensureMasquerade() error {
	returns, masquerade := m.masqueradeRules()
	for _, rule := range returns {
		if err := ensureRule("-I", rule); err != nil {
			return err
		}
	}
	return ensureRule("-A", masquerade)
}

// ensureRule adds a nat rule (op -A or -I) unless it is there already.
func ensureRule(op string, rule []string) error {
	if exec.Command("iptables", append([]string{"-t", "nat", "-C"}, rule...)...).Run() == nil {
		return nil
	}
	if out, err := exec.Command("iptables", append([]string{"-t", "nat", op}, rule...)...).CombinedOutput(); err != nil {
		return fmt.Errorf("iptables rule %v: %v: %s", rule, err, out)
	}
	return nil
}
