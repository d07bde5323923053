package pod

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Host files the pod's files fall back to.
var (
	hostResolvConf = "/etc/resolv.conf"
	hostHosts      = "/etc/hosts"
)

// writePodFiles writes hostname, hosts and resolv.conf into dir.
func writePodFiles(dir, hostname string, cfg *runtime.PodSandboxConfig, hostNet bool) error {
	if err := os.WriteFile(filepath.Join(dir, "hostname"), []byte(hostname+"\n"), 0o644); err != nil {
		return err
	}
	hosts, err := hostsFile(hostname, hostNet)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "hosts"), hosts, 0o644); err != nil {
		return err
	}
	resolv, err := resolvConf(cfg.GetDnsConfig())
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "resolv.conf"), resolv, 0o644)
}

func hostsFile(hostname string, hostNet bool) ([]byte, error) {
	if hostNet {
		return os.ReadFile(hostHosts)
	}
	return []byte(fmt.Sprintf("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"+
		"fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n"+
		"127.0.1.1\t%s\n", hostname)), nil
}

// resolvConf renders the pod's DNS config, or copies the host's when the
// pod gives none (as containerd does).
func resolvConf(dns *runtime.DNSConfig) ([]byte, error) {
	if dns == nil {
		data, err := os.ReadFile(hostResolvConf)
		if os.IsNotExist(err) {
			return nil, nil
		}
		return data, err
	}
	var b strings.Builder
	if len(dns.GetSearches()) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(dns.GetSearches(), " "))
	}
	for _, s := range dns.GetServers() {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	if len(dns.GetOptions()) > 0 {
		fmt.Fprintf(&b, "options %s\n", strings.Join(dns.GetOptions(), " "))
	}
	return []byte(b.String()), nil
}
