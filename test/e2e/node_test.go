package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// node is one berthd and the kubelet that runs pods on it, with their own
// dirs, socket, bridge, pod subnet, cgroup root and ports: several of them
// share this machine as a cluster's nodes would share a network.
type node struct {
	c          *cluster
	name       string
	dir        string
	socket     string
	bridge     string
	subnet     string
	cgroupRoot string
	berthdCfg  string
	berthd     *proc
	kubelet    *proc
	kubeletArg []string
}

// cgroupMounts are the cgroup hierarchies of this host: every v1
// controller mount and the cgroup2 one (v1, hybrid or v2).
func cgroupMounts() []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for i := range f {
			if f[i] == "-" && i+1 < len(f) && (f[i+1] == "cgroup" || f[i+1] == "cgroup2") {
				out = append(out, f[4])
			}
		}
	}
	return out
}

// clusterPodCIDR holds every node's pod subnet.
const clusterPodCIDR = "10.208.0.0/12"

// addNode starts node number i (1, 2, ...) against the cluster: berthd on
// bridge be2e<i> with pods in 10.21<i>.0.0/16, and a kubelet registering
// as berth-e2e-<i> on its own port and cgroup root.
func (c *cluster) addNode(i int, berthBin, registry string, mirrorHosts []string) (*node, error) {
	n := &node{c: c, name: fmt.Sprintf("berth-e2e-%d", i), bridge: fmt.Sprintf("be2e%d", i),
		subnet: fmt.Sprintf("10.21%d.0.0/16", i), cgroupRoot: fmt.Sprintf("/berth-e2e-%d", i)}
	n.dir = filepath.Join(c.dir, n.name)
	n.socket = filepath.Join(n.dir, "berth.sock")
	// Searchable (not listable), as /run and /var/lib are: a pod with its
	// own user namespace runs as a host UID that must pass through it.
	if err := os.MkdirAll(n.dir, 0o711); err != nil {
		return nil, err
	}
	if err := os.Chmod(n.dir, 0o711); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Join(n.dir, "net.d"), 0o700); err != nil {
		return nil, err
	}
	c.nodes = append(c.nodes, n)
	var reg strings.Builder
	for _, h := range mirrorHosts {
		fmt.Fprintf(&reg, "[[registry.hosts]]\nhost = %q\nmirrors = [\"http://%s\"]\nmirrors_only = true\n", h, registry)
	}
	n.berthdCfg = filepath.Join(n.dir, "berth.toml")
	// Every node's pods are in 10.208.0.0/12: traffic between them is not
	// masqueraded (pods see each other's own IPs across nodes).
	if err := os.WriteFile(n.berthdCfg, []byte(fmt.Sprintf("[network]\nconf_dir = %q\nbridge = %q\nsubnet = %q\nno_masquerade = [%q]\n%s",
		filepath.Join(n.dir, "net.d"), n.bridge, n.subnet, clusterPodCIDR, reg.String())), 0o600); err != nil {
		return nil, err
	}
	if err := n.startBerthd(berthBin); err != nil {
		return n, err
	}
	// The kubelet wants its cgroup root to exist in every hierarchy.
	for _, m := range cgroupMounts() {
		os.MkdirAll(filepath.Join(m, n.cgroupRoot), 0o755)
	}
	if err := c.pki.issue(n.name, "system:node:"+n.name, []string{"system:nodes"}); err != nil {
		return n, err
	}
	kubeconfig := filepath.Join(n.dir, "kubelet.kubeconfig")
	if err := c.writeKubeconfig(kubeconfig, n.name); err != nil {
		return n, err
	}
	port, err := freePort()
	if err != nil {
		return n, err
	}
	// No cluster DNS: a pod's resolv.conf names its own loopback, so no
	// lookup leaves the machine.
	resolv := filepath.Join(n.dir, "resolv.conf")
	os.WriteFile(resolv, []byte("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n"), 0o644)
	cfg := filepath.Join(n.dir, "kubelet.yaml")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
containerRuntimeEndpoint: unix://%s
podLogsDir: %s
volumePluginDir: %s
resolvConf: %s
cgroupRoot: %s
failCgroupV1: false
failSwapOn: false
cgroupDriver: cgroupfs
address: 127.0.0.1
port: %d
healthzPort: 0
readOnlyPort: 0
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: false}
  x509: {clientCAFile: %s}
authorization: {mode: AlwaysAllow}
evictionHard: {memory.available: 100Mi, nodefs.available: 1%%, imagefs.available: 1%%, nodefs.inodesFree: 1%%}
imageGCHighThresholdPercent: 100
`, n.socket, filepath.Join(n.dir, "pods"), filepath.Join(n.dir, "volume-plugins"), resolv, n.cgroupRoot,
		port, c.pki.path("ca.crt"))), 0o600); err != nil {
		return n, err
	}
	n.kubeletArg = []string{"--config", cfg, "--kubeconfig", kubeconfig, "--root-dir", filepath.Join(n.dir, "kubelet"),
		"--hostname-override", n.name, "--v=2"}
	if err := n.startKubelet(); err != nil {
		return n, err
	}
	return n, waitFor(120*time.Second, "node "+n.name+" Ready", func() error {
		_, err := c.kubectl("wait", "--for=condition=Ready", "node/"+n.name, "--timeout=5s")
		return err
	})
}

func (n *node) startBerthd(bin string) error {
	os.Remove(n.socket)
	p, err := startProc(n.dir, "berthd", bin, "--config", n.berthdCfg, "--root", filepath.Join(n.dir, "root"),
		"--state", filepath.Join(n.dir, "state"), "--listen", n.socket, "--log-level", "debug")
	if err != nil {
		return err
	}
	n.berthd = p
	return waitFor(30*time.Second, n.name+"'s berthd serving", func() error {
		if !p.running() {
			return fmt.Errorf("berthd exited:\n%s", p.tail(3000))
		}
		_, err := os.Stat(n.socket)
		return err
	})
}

func (n *node) startKubelet() error {
	p, err := startProc(n.dir, "kubelet", filepath.Join(n.c.bin, "kubelet"), n.kubeletArg...)
	if err != nil {
		return err
	}
	n.kubelet = p
	return nil
}

// cri dials the node's berthd.
func (n *node) cri() (runtime.RuntimeServiceClient, func(), error) {
	conn, err := grpc.NewClient("unix://"+n.socket, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	return runtime.NewRuntimeServiceClient(conn), func() { conn.Close() }, nil
}

// removeAllPods stops and removes every pod on the node's berthd (the
// kubelet is gone by then: pods outlive it).
func (n *node) removeAllPods() error {
	rt, done, err := n.cri()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	list, err := rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		return err
	}
	for _, p := range list.Items {
		rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: p.Id})
		if _, err := rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
			return fmt.Errorf("remove pod %s: %w", p.Id, err)
		}
	}
	return nil
}

// stop ends the kubelet, removes the node's pods, stops berthd and removes
// what the kubelet left on the host: its cgroups, mounts under its dir,
// its /var/log/containers links.
func (n *node) stop() {
	n.kubelet.stop(20 * time.Second)
	if n.berthd != nil && n.berthd.running() {
		n.removeAllPods()
	}
	n.berthd.stop(30 * time.Second)
	for _, m := range mountsUnder(n.dir) {
		syscall.Unmount(m, syscall.MNT_DETACH)
	}
	for _, m := range cgroupMounts() {
		removeTree(filepath.Join(m, n.cgroupRoot))
	}
	links, _ := filepath.Glob("/var/log/containers/*.log")
	for _, l := range links {
		if target, err := os.Readlink(l); err == nil && strings.HasPrefix(target, n.dir+"/") {
			os.Remove(l)
		}
	}
	// berthd keeps its bridge and masquerade rules across restarts; the
	// node is gone for good, so they go too.
	exec.Command("ip", "link", "del", n.bridge).Run()
	rules, _ := exec.Command("iptables", "-t", "nat", "-S", "POSTROUTING").Output()
	for _, rule := range strings.Split(string(rules), "\n") {
		if strings.Contains(rule, "-s "+n.subnet+" ") && strings.Contains(rule, "berth default network") {
			args := strings.Fields(strings.Replace(rule, "-A ", "-D ", 1))
			for i := range args { // the comment is one argument
				args[i] = strings.Trim(args[i], `"`)
			}
			if i := indexOf(args, "--comment"); i >= 0 && i+3 < len(args) {
				args = append(append(args[:i+1:i+1], "berth default network"), args[i+4:]...)
			}
			exec.Command("iptables", append([]string{"-t", "nat"}, args...)...).Run()
		}
	}
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}

// mountsUnder lists the mount points below dir, deepest first.
func mountsUnder(dir string) []string {
	data, _ := os.ReadFile("/proc/self/mountinfo")
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && strings.HasPrefix(f[4], dir+"/") {
			out = append([]string{f[4]}, out...)
		}
	}
	return out
}

// removeTree removes a tree of empty directories (a cgroup), leaves first.
func removeTree(root string) {
	var dirs []string
	filepath.Walk(root, func(p string, fi os.FileInfo, err error) error {
		if err == nil && fi.IsDir() {
			dirs = append(dirs, p)
		}
		return nil
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		os.Remove(dirs[i])
	}
}

func ctxTimeout() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}
