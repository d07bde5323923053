package network

import (
	"encoding/json"
	"path/filepath"
)

// defaultConfList is berth's own network: a bridge with host-local IPAM
// (allocations kept in berth's state dir), masquerading, and portmap for
// hostPorts. Loopback is set up by berth itself.
func (m *Manager) defaultConfList() []byte {
	conf := map[string]any{
		"cniVersion": "1.0.0",
		"name":       "berth",
		"plugins": []any{
			map[string]any{
				"type": "bridge", "bridge": m.opts.Bridge, "isGateway": true, "ipMasq": true, "hairpinMode": true,
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
