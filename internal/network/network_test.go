package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestParseQuantityAndBandwidth(t *testing.T) {
	cases := map[string]uint64{"10M": 10e6, "1Gi": 1 << 30, "500k": 500e3, "2.5M": 2.5e6, "42": 42}
	for in, want := range cases {
		if got, err := parseQuantity(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	bw, err := bandwidth(map[string]string{ingressAnnotation: "1M"})
	if err != nil || bw["ingressRate"] != 1e6 || bw["egressRate"] != 0 {
		t.Fatalf("bandwidth %v %v", bw, err)
	}
	if _, err := bandwidth(map[string]string{egressAnnotation: "fast"}); err == nil {
		t.Fatal("a bad rate must be refused")
	}
	if bw, _ := bandwidth(nil); bw != nil {
		t.Fatal("no annotations, no capability")
	}
}

func TestDefaultNetworkUntilConfDirHasOne(t *testing.T) {
	dir := t.TempDir()
	confDir := filepath.Join(dir, "net.d")
	m, err := New(Options{ConfDir: confDir, BinDirs: []string{"/usr/lib/cni"}, StateDir: filepath.Join(dir, "state"), Bridge: "berth9", Subnet: "10.99.0.0/16"})
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := m.Ready(); ok || !strings.Contains(why, confDir) {
		t.Fatalf("no network and no default: ready=%v %q", ok, why)
	}
	m.opts.DefaultNetwork = true
	masqueraded := false
	m.masquerade = func() error { masqueraded = true; return nil }
	m.reload()
	if !masqueraded {
		t.Fatal("the default network needs its masquerade rule")
	}
	list, err := m.current()
	if err != nil || list.Name != "berth" || len(list.Plugins) != 3 {
		t.Fatalf("default network: %v %v", list, err)
	}
	// A network installed later wins, without a restart.
	os.MkdirAll(confDir, 0o755)
	os.WriteFile(filepath.Join(confDir, "05-cluster.conflist"), []byte(`{"cniVersion":"1.0.0","name":"cluster","plugins":[{"type":"bridge","bridge":"x"}]}`), 0o644)
	m.lastScan = time.Time{}
	if list, err := m.current(); err != nil || list.Name != "cluster" {
		t.Fatalf("installed network not picked up: %v %v", list, err)
	}
	// A broken config is reported, with its file.
	os.WriteFile(filepath.Join(confDir, "01-broken.conflist"), []byte(`{not json`), 0o644)
	m.lastScan = time.Time{}
	if _, err := m.current(); err != nil {
		t.Fatalf("a broken file before a good one: %v", err)
	}
}

func TestRuntimeConfArgs(t *testing.T) {
	m := &Manager{podCIDR: "10.1.0.0/24"}
	rt, err := m.runtimeConf(Pod{ID: "abc", NetNS: "/ns", Name: "web", Namespace: "prod", UID: "u",
		Ports: []*runtime.PortMapping{{HostPort: 8080, ContainerPort: 80}, {ContainerPort: 9090}},
		DNS:   &runtime.DNSConfig{Servers: []string{"1.1.1.1"}}})
	if err != nil {
		t.Fatal(err)
	}
	args := map[string]string{}
	for _, kv := range rt.Args {
		args[kv[0]] = kv[1]
	}
	if args["K8S_POD_NAME"] != "web" || args["K8S_POD_NAMESPACE"] != "prod" || args["K8S_POD_INFRA_CONTAINER_ID"] != "abc" || args["K8S_POD_UID"] != "u" {
		t.Fatalf("CNI_ARGS %v", args)
	}
	pm := rt.CapabilityArgs["portMappings"].([]map[string]any)
	if len(pm) != 1 || pm[0]["hostPort"] != int32(8080) || pm[0]["protocol"] != "tcp" {
		t.Fatalf("port mappings %v", pm)
	}
	if rt.CapabilityArgs["podCIDR"] != "10.1.0.0/24" || rt.CapabilityArgs["dns"] == nil || rt.IfName != "eth0" {
		t.Fatalf("caps %v", rt.CapabilityArgs)
	}
}

func TestSplitRule(t *testing.T) {
	got := splitRule(`POSTROUTING -s 10.88.0.3/32 -m comment --comment "name: \"berth\" id: \"abc\"" -j CNI-4de3`)
	want := []string{"POSTROUTING", "-s", "10.88.0.3/32", "-m", "comment", "--comment", `name: "berth" id: "abc"`, "-j", "CNI-4de3"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}

// Other nodes' pod subnets are RETURNed before the one MASQUERADE, so
// pod-to-pod traffic across nodes keeps the pod's IP.
func TestMasqueradeRulesSpareOtherPodSubnets(t *testing.T) {
	m := &Manager{opts: Options{Subnet: "10.211.0.0/16", NoMasquerade: []string{"10.212.0.0/16", "10.213.0.0/16"}}}
	returns, masq := m.masqueradeRules()
	if len(returns) != 2 {
		t.Fatalf("returns: %v", returns)
	}
	for i, r := range returns {
		got := strings.Join(r, " ")
		want := "POSTROUTING -s 10.211.0.0/16 -d " + m.opts.NoMasquerade[i] + " "
		if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "-j RETURN") {
			t.Errorf("rule %d: %q", i, got)
		}
	}
	if got := strings.Join(masq, " "); !strings.HasPrefix(got, "POSTROUTING -s 10.211.0.0/16 ! -d 10.211.0.0/16 ") || !strings.HasSuffix(got, "-j MASQUERADE") {
		t.Errorf("masquerade: %q", got)
	}
	m.opts.NoMasquerade = nil
	if returns, _ := m.masqueradeRules(); len(returns) != 0 {
		t.Errorf("no exceptions configured, got %v", returns)
	}
}
