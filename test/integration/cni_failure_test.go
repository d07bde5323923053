package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// failingPlugin is a CNI plugin that fails every ADD, and every DEL too
// when its config says "failDel": true (as portmap's DEL failed on a bad
// port mapping).
const failingPlugin = `#!/bin/sh
conf=$(cat)
case "$CNI_COMMAND" in
ADD)
	echo '{"cniVersion":"1.0.0","code":999,"msg":"berth test: this plugin fails ADD"}'
	exit 1 ;;
DEL)
	case "$conf" in *'"failDel": true'*|*'"failDel":true'*)
		echo '{"cniVersion":"1.0.0","code":999,"msg":"berth test: this plugin fails DEL"}'
		exit 1 ;;
	esac
	exit 0 ;;
VERSION)
	echo '{"cniVersion":"1.0.0","supportedVersions":["0.4.0","1.0.0"]}' ;;
esac
`

// TestCNIChainFailingAtEachPosition (root): a plugin that fails ADD at the
// start, the middle and the end of the chain, with a DEL that works or
// fails too: RunPodSandbox fails and no IP, veth, namespace or pod dir is
// left, because every plugin's DEL runs even when one fails.
func TestCNIChainFailingAtEachPosition(t *testing.T) {
	const bridge = "berthcnifail0"
	t.Cleanup(func() { exec.Command("ip", "link", "del", bridge).Run() })
	pluginDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(pluginDir, "berth-fail"), []byte(failingPlugin), 0o755); err != nil {
		t.Fatal(err)
	}
	for pos := 0; pos < 3; pos++ {
		for _, failDel := range []bool{false, true} {
			t.Run(fmt.Sprintf("position %d, DEL fails %v", pos, failDel), func(t *testing.T) {
				confDir, ipam := t.TempDir(), t.TempDir()
				plugins := []string{
					fmt.Sprintf(`{"type": "bridge", "bridge": %q, "isGateway": true, "ipMasq": false,
					  "ipam": {"type": "host-local", "dataDir": %q, "ranges": [[{"subnet": "10.85.0.0/24"}]]}}`, bridge, ipam),
					`{"type": "portmap", "capabilities": {"portMappings": true}}`,
				}
				fail := fmt.Sprintf(`{"type": "berth-fail", "failDel": %v}`, failDel)
				plugins = append(plugins[:pos], append([]string{fail}, plugins[pos:]...)...)
				list := fmt.Sprintf(`{"cniVersion": "1.0.0", "name": "failchain", "plugins": [%s]}`, strings.Join(plugins, ","))
				if err := os.WriteFile(filepath.Join(confDir, "10-failchain.conflist"), []byte(list), 0o644); err != nil {
					t.Fatal(err)
				}
				b := startBerthd(t, fmt.Sprintf("[network]\nconf_dir = %q\nplugin_dirs = [%q, \"/usr/lib/cni\", \"/opt/cni/bin\"]\n", confDir, pluginDir))
				_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: podConfig(t, "cnifail")})
				if err == nil || !strings.Contains(err.Error(), "fails ADD") {
					t.Fatalf("RunPodSandbox: %v, want the plugin's ADD error", err)
				}
				if ips := allocatedIPs(ipam); len(ips) != 0 {
					t.Errorf("IPs left allocated: %v", ips)
				}
				if ports := bridgePorts(bridge); len(ports) != 0 {
					t.Errorf("veths left on %s: %v", bridge, ports)
				}
				if m := mountsUnder(b.dir); len(m) != 0 {
					t.Errorf("mounts left: %v", m)
				}
				if entries, _ := os.ReadDir(filepath.Join(b.State, "pods")); len(entries) != 0 {
					t.Errorf("pod dirs left: %v", entries)
				}
			})
		}
	}
}
