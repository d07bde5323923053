package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/berth-runtime/berth/test/fixture"
)

// The registry hosts berth mirrors besides those e2e.test's images name:
// none of them may be reached from here.
var alwaysMirrored = []string{"docker.io", "registry.k8s.io", "k8s.gcr.io", "gcr.io", "quay.io", "ghcr.io", "public.ecr.aws", "mcr.microsoft.com"}

// TestKubernetesOnBerth (root; needs BERTH_E2E_BIN, see `make e2e`): a
// control plane and two berth nodes on this machine; the user flows, two
// nodes' flows and the sig-node conformance specs run as subtests. At the
// end nothing of the cluster is left: no pod, mount, cgroup, shim or
// /var/log/containers link of its nodes.
func TestKubernetesOnBerth(t *testing.T) {
	bin := requireE2E(t)
	dir, err := os.MkdirTemp("", "berth-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	// Searchable as /run and /var/lib are: a pod with its own user
	// namespace (hostUsers: false) runs as a host UID that must pass
	// through the nodes' dirs to its rootfs. Nothing below can be listed.
	os.Chmod(dir, 0o711)
	restoreSysctls(t, "vm.overcommit_memory", "kernel.panic", "kernel.panic_on_oops")
	if err := os.MkdirAll(filepath.Join(dir, "registry"), 0o700); err != nil {
		t.Fatal(err)
	}
	reg, err := fixture.StartRegistry(filepath.Join(dir, "registry"), fixture.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	list, err := exec.Command(filepath.Join(bin, "e2e.test"), "--list-images").Output()
	if err != nil {
		t.Fatalf("e2e.test --list-images: %v", err)
	}
	kit := newImageKit(bin, k8sSource(t, bin), filepath.Join(berthBin, "berth-pause"))
	missing, hosts, err := kit.push(reg, strings.Fields(string(list)))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("e2e images not available offline (%d): %s", len(missing), strings.Join(missing, " "))
	mirrors := append([]string{}, alwaysMirrored...)
	for _, h := range hosts {
		if !contains(mirrors, h) {
			mirrors = append(mirrors, h)
		}
	}
	undoHosts, err := addHostNames("berth-e2e-1", "berth-e2e-2")
	if err != nil {
		t.Fatal(err)
	}
	c, err := startCluster(dir, bin)
	t.Cleanup(func() {
		if c != nil {
			c.stop()
		}
		reg.Stop()
		undoHosts()
		assertClusterGone(t, c, dir)
		if !t.Failed() || os.Getenv("BERTH_E2E_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			t.Logf("logs kept in %s", dir)
		}
	})
	if err != nil {
		t.Fatalf("control plane: %v", err)
	}
	for i := 1; i <= 2; i++ {
		n, err := c.addNode(i, filepath.Join(berthBin, "berthd"), reg.Addr, mirrors)
		if err != nil {
			if n != nil && n.kubelet != nil {
				t.Logf("kubelet log:\n%s", n.kubelet.tail(4000))
			}
			t.Fatalf("node %d: %v", i, err)
		}
	}
	t.Run("flows", func(t *testing.T) { userFlows(t, c) })
	t.Run("two-nodes", func(t *testing.T) { twoNodeFlows(t, c) })
	t.Run("conformance", func(t *testing.T) { conformance(t, c, missing) })
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// addHostNames maps the node names to 127.0.0.1 in /etc/hosts (the
// apiserver reaches kubelets by their hostname); the returned func takes
// the lines out again.
func addHostNames(names ...string) (func(), error) {
	const marker = "# berth-e2e"
	line := "127.0.0.1 " + strings.Join(names, " ") + " " + marker + "\n"
	f, err := os.OpenFile("/etc/hosts", os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return nil, err
	}
	_, err = f.WriteString(line)
	f.Close()
	return func() {
		data, err := os.ReadFile("/etc/hosts")
		if err != nil {
			return
		}
		var keep []string
		for _, l := range strings.SplitAfter(string(data), "\n") {
			if !strings.HasSuffix(strings.TrimSpace(l), marker) {
				keep = append(keep, l)
			}
		}
		os.WriteFile("/etc/hosts", []byte(strings.Join(keep, "")), 0o644)
	}, err
}

// restoreSysctls puts the named sysctls back as they are now when the test
// ends (the kubelet sets them).
func restoreSysctls(t *testing.T, names ...string) {
	saved := map[string]string{}
	for _, n := range names {
		p := "/proc/sys/" + strings.ReplaceAll(n, ".", "/")
		if data, err := os.ReadFile(p); err == nil {
			saved[p] = strings.TrimSpace(string(data))
		}
	}
	t.Cleanup(func() {
		for p, v := range saved {
			os.WriteFile(p, []byte(v), 0o644)
		}
	})
}

// assertClusterGone checks that the stopped cluster left nothing behind.
func assertClusterGone(t *testing.T, c *cluster, dir string) {
	if m := mountsUnder(dir); len(m) > 0 {
		t.Errorf("mounts left under %s: %v", dir, m)
	}
	if c == nil {
		return
	}
	rules, _ := exec.Command("iptables", "-t", "nat", "-S", "POSTROUTING").Output()
	for _, n := range c.nodes {
		if exec.Command("ip", "link", "show", n.bridge).Run() == nil {
			t.Errorf("bridge %s left", n.bridge)
		}
		if strings.Contains(string(rules), "-s "+n.subnet+" ") {
			t.Errorf("nat rules for %s left:\n%s", n.subnet, rules)
		}
		for _, m := range cgroupMounts() {
			if _, err := os.Stat(filepath.Join(m, n.cgroupRoot)); err == nil {
				t.Errorf("cgroup %s left in %s", n.cgroupRoot, m)
			}
		}
		links, _ := filepath.Glob("/var/log/containers/*.log")
		for _, l := range links {
			if target, _ := os.Readlink(l); strings.HasPrefix(target, n.dir+"/") {
				t.Errorf("log link %s -> %s left", l, target)
			}
		}
	}
	out, _ := exec.Command("pgrep", "-f", dir).Output()
	if len(strings.TrimSpace(string(out))) > 0 {
		time.Sleep(2 * time.Second)
		if out, _ = exec.Command("pgrep", "-af", dir).Output(); len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("processes of the cluster left:\n%s", out)
		}
	}
}
