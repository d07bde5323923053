package integration

import (
	"bufio"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// removeAllPods removes whatever pods a test left, through the CRI, so
// that the leak check below judges RemovePodSandbox.
func (b *berthd) removeAllPods() {
	if b.cmd == nil {
		return
	}
	list, err := b.RT.ListPodSandbox(ctxT(b.t), &runtime.ListPodSandboxRequest{})
	if err != nil {
		b.t.Errorf("list pods at cleanup: %v", err)
		return
	}
	for _, p := range list.Items {
		if _, err := b.RT.RemovePodSandbox(ctxT(b.t), &runtime.RemovePodSandboxRequest{PodSandboxId: p.Id}); err != nil {
			b.t.Errorf("remove pod %s at cleanup: %v", p.Id, err)
		}
	}
}

// assertNoLeaks fails the test if berthd left mounts, shims, cgroups or
// runtime state behind.
func (b *berthd) assertNoLeaks() {
	b.t.Helper()
	for _, m := range mountsUnder(b.dir) {
		b.t.Errorf("leaked mount: %s", m)
	}
	for _, p := range processesMentioning(b.dir) {
		b.t.Errorf("leaked process: %s", p)
	}
	for _, p := range processesInPods(b.podIDs) {
		b.t.Errorf("leaked process in a pod's cgroup: %s", p)
	}
	for _, c := range berthCgroups() {
		b.t.Errorf("leaked cgroup: %s", c)
	}
	for _, rt := range []string{"runc", "crun"} {
		entries, _ := os.ReadDir(filepath.Join(b.State, "runtime", rt))
		for _, e := range entries {
			b.t.Errorf("leaked %s state: %s", rt, e.Name())
		}
	}
	// The kernel destroys a network namespace (and the host end of its
	// veth) asynchronously once its last reference goes: give it time.
	ports := bridgePorts("berth0")
	for deadline := time.Now().Add(5 * time.Second); len(ports) > 0 && time.Now().Before(deadline); ports = bridgePorts("berth0") {
		time.Sleep(50 * time.Millisecond)
	}
	for _, l := range ports {
		b.t.Errorf("leaked veth on berth0: %s", l)
	}
	for _, ip := range allocatedIPs(filepath.Join(b.State, "cni", "ipam")) {
		b.t.Errorf("leaked IP allocation: %s", ip)
	}
	for _, r := range iptablesRulesMentioning(b.podIDs) {
		b.t.Errorf("leaked iptables rule: %s", r)
	}
	entries, _ := os.ReadDir(filepath.Join(b.State, "s"))
	for _, e := range entries {
		b.t.Errorf("leaked shim socket: %s", e.Name())
	}
	entries, _ = os.ReadDir(filepath.Join(b.State, "pods"))
	for _, e := range entries {
		b.t.Errorf("leaked pod dir: %s", e.Name())
	}
	for _, dir := range []string{filepath.Join(b.State, "containers"), filepath.Join(b.Root, "containers")} {
		entries, _ = os.ReadDir(dir)
		for _, e := range entries {
			b.t.Errorf("leaked container dir: %s/%s", dir, e.Name())
		}
	}
}

func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && strings.HasPrefix(fields[4], dir) {
			out = append(out, fields[4])
		}
	}
	return out
}

func processesMentioning(s string) []string {
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cl := strings.ReplaceAll(string(cmdline), "\x00", " ")
		if strings.Contains(cl, s) && !strings.Contains(cl, "berthd ") {
			out = append(out, e.Name()+": "+cl)
		}
	}
	return out
}

// processesInPods lists processes whose cgroup names one of the pods (a
// container process that outlived its pod, say after its shim died).
func processesInPods(podIDs []string) []string {
	if len(podIDs) == 0 {
		return nil
	}
	entries, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		cg, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cgroup"))
		if err != nil || zombie(e.Name()) {
			continue // a zombie holds nothing but its pid until PID 1 reaps it
		}
		for _, id := range podIDs {
			if strings.Contains(string(cg), id) {
				cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				out = append(out, e.Name()+": "+strings.ReplaceAll(string(cmdline), "\x00", " "))
				break
			}
		}
	}
	return out
}

func zombie(pid string) bool {
	stat, err := os.ReadFile(filepath.Join("/proc", pid, "stat"))
	if err != nil {
		return true
	}
	i := strings.LastIndexByte(string(stat), ')')
	return i < 0 || i+2 >= len(stat) || stat[i+2] == 'Z' || stat[i+2] == 'X'
}

// berthCgroups lists pod cgroups berth made (/berth/<pod>) that remain.
func berthCgroups() []string {
	var out []string
	for _, root := range []string{"/sys/fs/cgroup/memory/berth", "/sys/fs/cgroup/cpu/berth", "/sys/fs/cgroup/pids/berth", "/sys/fs/cgroup/berth", "/sys/fs/cgroup/unified/berth"} {
		entries, _ := os.ReadDir(root)
		for _, e := range entries {
			if e.IsDir() {
				out = append(out, filepath.Join(root, e.Name()))
			}
		}
	}
	return out
}

// bridgePorts lists the interfaces enslaved to bridge.
func bridgePorts(bridge string) []string {
	out, _ := exec.Command("ip", "-o", "link", "show", "master", bridge).Output()
	var ports []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if l != "" {
			ports = append(ports, l)
		}
	}
	return ports
}

// allocatedIPs lists host-local's allocation files (one per IP in use).
func allocatedIPs(dir string) []string {
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && net.ParseIP(d.Name()) != nil {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// iptablesRulesMentioning finds rules whose comment names one of the pods.
func iptablesRulesMentioning(podIDs []string) []string {
	if len(podIDs) == 0 {
		return nil
	}
	out, err := exec.Command("iptables-save").Output()
	if err != nil {
		return nil
	}
	var rules []string
	for _, l := range strings.Split(string(out), "\n") {
		for _, id := range podIDs {
			if strings.Contains(l, id) {
				rules = append(rules, l)
			}
		}
	}
	return rules
}
