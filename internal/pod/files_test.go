package pod

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestResolvConfFromDNSConfig(t *testing.T) {
	got, err := resolvConf(&runtime.DNSConfig{Servers: []string{"1.1.1.1", "8.8.8.8"}, Searches: []string{"a.local"}, Options: []string{"ndots:2", "edns0"}})
	if err != nil {
		t.Fatal(err)
	}
	want := "search a.local\nnameserver 1.1.1.1\nnameserver 8.8.8.8\noptions ndots:2 edns0\n"
	if string(got) != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func TestResolvConfFallsBackToHost(t *testing.T) {
	host := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(host, []byte("nameserver 9.9.9.9\n"), 0o644)
	old := hostResolvConf
	hostResolvConf = host
	defer func() { hostResolvConf = old }()
	got, err := resolvConf(nil)
	if err != nil || string(got) != "nameserver 9.9.9.9\n" {
		t.Fatalf("got %q %v", got, err)
	}
}

func TestWritePodFiles(t *testing.T) {
	dir := t.TempDir()
	cfg := &runtime.PodSandboxConfig{DnsConfig: &runtime.DNSConfig{Servers: []string{"10.0.0.1"}}}
	if err := writePodFiles(dir, "web-0", cfg, false); err != nil {
		t.Fatal(err)
	}
	hn, _ := os.ReadFile(filepath.Join(dir, "hostname"))
	hosts, _ := os.ReadFile(filepath.Join(dir, "hosts"))
	resolv, _ := os.ReadFile(filepath.Join(dir, "resolv.conf"))
	if string(hn) != "web-0\n" || !strings.Contains(string(hosts), "127.0.0.1\tlocalhost") ||
		!strings.Contains(string(hosts), "web-0") || string(resolv) != "nameserver 10.0.0.1\n" {
		t.Fatalf("hostname %q hosts %q resolv %q", hn, hosts, resolv)
	}
}

func TestValidateConfigAndHostname(t *testing.T) {
	for _, cfg := range []*runtime.PodSandboxConfig{
		nil,
		{},
		{Metadata: &runtime.PodSandboxMetadata{Name: "a", Namespace: "b"}},
		{Metadata: &runtime.PodSandboxMetadata{Name: "a", Namespace: "b", Uid: "c"}, LogDirectory: "relative"},
		{Metadata: &runtime.PodSandboxMetadata{Name: "a", Namespace: "b", Uid: "c"}, Linux: &runtime.LinuxPodSandboxConfig{CgroupParent: "kubepods"}},
	} {
		if err := validateConfig(cfg); err == nil {
			t.Errorf("config %v accepted", cfg)
		}
	}
	long := strings.Repeat("h", 80)
	if h := hostname(&runtime.PodSandboxConfig{Hostname: long}); len(h) != 63 {
		t.Errorf("hostname not capped: %d", len(h))
	}
	if h := hostname(&runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "pod"}}); h != "pod" {
		t.Errorf("default hostname %q", h)
	}
}
