package e2e

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	busybox     = "registry.k8s.io/e2e-test-images/busybox:1.37.0-1"
	agnhost     = "registry.k8s.io/e2e-test-images/agnhost:2.63.0"
	agnhostPrev = "registry.k8s.io/e2e-test-images/agnhost:2.55"
)

// userFlows are what a cluster's users do first, each asserted: run,
// logs, exec, attach, port-forward, cp, a Deployment's rollout and scaling,
// a Job, OOM kills reported, hostPort, and pods that keep running through
// a kubelet restart and a berthd crash.
func userFlows(t *testing.T, c *cluster) {
	ns := "flows"
	c.mustKubectl(t, "create", "namespace", ns)
	defer c.kubectl("delete", "namespace", ns, "--wait=false")
	k := func(args ...string) string {
		t.Helper()
		return c.mustKubectl(t, append([]string{"-n", ns}, args...)...)
	}
	node1 := c.nodes[0].name

	t.Run("run-and-logs", func(t *testing.T) {
		k := c.in(t, ns)
		k("run", "hello", "--image="+busybox, "--restart=Never", "--overrides", pinTo(node1), "--",
			"sh", "-c", "echo hello; sleep 1; echo again; printf no-newline")
		c.waitPhase(t, ns, "hello", "Succeeded")
		if out := k("logs", "hello"); out != "hello\nagain\nno-newline" {
			t.Errorf("kubectl logs: %q, want the three lines as written (the last without newline)", out)
		}
		k("run", "ticker", "--image="+busybox, "--restart=Never", "--", "sh", "-c", "for i in 1 2 3 4 5; do echo tick $i; sleep 0.3; done")
		c.waitPhase(t, ns, "ticker", "Running", "Succeeded")
		if out := k("logs", "-f", "ticker"); strings.Count(out, "tick ") != 5 {
			t.Errorf("kubectl logs -f: %q, want 5 ticks and an end", out)
		}
	})

	k("run", "box", "--image="+busybox, "--overrides", pinTo(node1), "--", "sleep", "100000")
	c.waitReady(t, ns, "box")

	t.Run("exec", func(t *testing.T) {
		_, err := c.kubectl("-n", ns, "exec", "box", "--", "sh", "-c", "exit 3")
		if ee, ok := unwrapExit(err); !ok || ee != 3 {
			t.Errorf("exec exit 3: %v, want exit status 3", err)
		}
		if out, err := c.kubectlIn("piped through\n", "-n", ns, "exec", "-i", "box", "--", "cat"); err != nil || out != "piped through\n" {
			t.Errorf("exec -i cat: %q %v", out, err)
		}
		// A terminal: util-linux script gives kubectl one.
		cmd := exec.Command("script", "-qec", fmt.Sprintf("%s --kubeconfig %s -n %s exec -it box -- sh -c 'tty; stty size'",
			filepath.Join(c.bin, "kubectl"), c.kubeconfig, ns), "/dev/null")
		cmd.Env = append(os.Environ(), "COLUMNS=91", "LINES=33")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "/dev/pts/") {
			t.Errorf("exec -it: %q %v, want a pts", out, err)
		}
		if _, err := c.kubectl("-n", ns, "exec", "box", "--", "no-such-command"); err == nil || !strings.Contains(err.Error(), "no-such-command") {
			t.Errorf("exec of a missing command: %v, want an error naming it", err)
		}
	})

	t.Run("cp", func(t *testing.T) {
		k := c.in(t, ns)
		dir := t.TempDir()
		src, dst := filepath.Join(dir, "in"), filepath.Join(dir, "out")
		body := strings.Repeat("berth cp\n", 5000)
		os.WriteFile(src, []byte(body), 0o600)
		k("cp", src, "box:/tmp/copied")
		if out := k("exec", "box", "--", "wc", "-c", "/tmp/copied"); !strings.HasPrefix(strings.TrimSpace(out), fmt.Sprint(len(body))) {
			t.Errorf("copied in: wc says %q, want %d bytes", out, len(body))
		}
		k("cp", "box:/tmp/copied", dst)
		if got, _ := os.ReadFile(dst); string(got) != body {
			t.Errorf("copied out %d bytes, want the %d copied in", len(got), len(body))
		}
	})

	t.Run("attach", func(t *testing.T) {
		k := c.in(t, ns)
		k("run", "talker", "--image="+busybox, "--overrides", pinTo(node1), "--", "sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done")
		c.waitReady(t, ns, "talker")
		cmd := exec.Command(filepath.Join(c.bin, "kubectl"), "--kubeconfig", c.kubeconfig, "-n", ns, "attach", "talker")
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		lines := readLines(out, 3, 20*time.Second)
		if len(lines) < 3 || !strings.HasPrefix(lines[0], "line ") {
			t.Errorf("attach: got %q, want the container's live output", lines)
		}
	})

	t.Run("port-forward-and-hostport", func(t *testing.T) {
		c.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: web, namespace: %s}
spec:
  nodeName: %s
  containers:
  - name: web
    image: %s
    args: ["netexec", "--http-port=8080"]
    ports: [{containerPort: 8080, hostPort: 18080, hostIP: 127.0.0.1}]
    readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
`, ns, node1, agnhost))
		c.waitReady(t, ns, "web")
		cmd := exec.Command(filepath.Join(c.bin, "kubectl"), "--kubeconfig", c.kubeconfig, "-n", ns, "port-forward", "pod/web", "0:8080")
		out, _ := cmd.StdoutPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
		lines := readLines(out, 1, 20*time.Second)
		m := regexp.MustCompile(`127\.0\.0\.1:(\d+) ->`).FindStringSubmatch(strings.Join(lines, "\n"))
		if m == nil {
			t.Fatalf("port-forward said %q", lines)
		}
		for _, url := range []string{"http://127.0.0.1:" + m[1] + "/hostname", "http://127.0.0.1:18080/hostname"} {
			if body, err := httpGet(url); err != nil || body != "web" {
				t.Errorf("GET %s: %q %v, want the pod's hostname", url, body, err)
			}
		}
	})

	t.Run("deployment-rollout-and-scale", func(t *testing.T) {
		k := c.in(t, ns)
		c.apply(t, deployment(ns, "app", agnhost, 10))
		start := time.Now()
		k("rollout", "status", "deployment/app", "--timeout=120s")
		t.Logf("10 replicas available in %s", time.Since(start).Round(100*time.Millisecond))
		start = time.Now()
		k("set", "image", "deployment/app", "app="+agnhostPrev)
		k("rollout", "status", "deployment/app", "--timeout=180s")
		t.Logf("rolling update in %s", time.Since(start).Round(100*time.Millisecond))
		if imgs := k("get", "pods", "-l", "app=app", "-o", "jsonpath={.items[*].spec.containers[0].image}"); strings.Count(imgs, agnhostPrev) != 10 || strings.Contains(imgs, agnhost+" ") {
			t.Errorf("after the rollout the pods run %q", imgs)
		}
		start = time.Now()
		k("scale", "deployment/app", "--replicas=30")
		k("rollout", "status", "deployment/app", "--timeout=180s")
		t.Logf("scale 10 -> 30 in %s", time.Since(start).Round(100*time.Millisecond))
		k("scale", "deployment/app", "--replicas=0")
		if err := waitFor(120*time.Second, "deployment scaled to 0", func() error {
			if out := k("get", "pods", "-l", "app=app", "-o", "name"); out != "" {
				return fmt.Errorf("pods left: %d", strings.Count(out, "\n"))
			}
			return nil
		}); err != nil {
			t.Error(err)
		}
	})

	t.Run("job", func(t *testing.T) {
		k := c.in(t, ns)
		c.apply(t, fmt.Sprintf(`apiVersion: batch/v1
kind: Job
metadata: {name: count, namespace: %s}
spec:
  completions: 3
  parallelism: 3
  template:
    spec:
      restartPolicy: Never
      containers: [{name: count, image: %s, command: ["sh", "-c", "echo done"]}]
`, ns, busybox))
		k("wait", "--for=condition=Complete", "job/count", "--timeout=120s")
		if n := k("get", "job", "count", "-o", "jsonpath={.status.succeeded}"); n != "3" {
			t.Errorf("job succeeded %s times, want 3", n)
		}
	})

	t.Run("user-namespace", func(t *testing.T) {
		k := c.in(t, ns)
		c.apply(t, fmt.Sprintf(`apiVersion: v1
kind: ConfigMap
metadata: {name: userns-cfg, namespace: %[1]s}
data: {key: value}
---
apiVersion: v1
kind: Pod
metadata: {name: userns, namespace: %[1]s}
spec:
  hostUsers: false
  restartPolicy: Never
  containers:
  - name: c
    image: %[2]s
    command: ["sh", "-c", "cat /proc/self/uid_map; id -u; stat -c 'owner %%u' /bin/busybox /cfg/key; cat /cfg/key; echo; touch /new && echo wrote"]
    volumeMounts: [{name: cfg, mountPath: /cfg}]
  volumes: [{name: cfg, configMap: {name: userns-cfg}}]
`, ns, busybox))
		c.waitPhase(t, ns, "userns", "Succeeded")
		out := k("logs", "userns")
		lines := strings.Split(out, "\n")
		mapping := strings.Fields(lines[0])
		// The kubelet picks the range (65536 IDs, from 65536 up); the pod's
		// root is one of them, never host root.
		if len(mapping) != 3 || mapping[0] != "0" || mapping[1] == "0" || mapping[2] != "65536" {
			t.Errorf("uid_map of a hostUsers: false pod: %q, want 0 -> a range of 65536 away from host root", lines[0])
		}
		for _, want := range []string{"\n0\n", "owner 0\nowner 0\n", "value\n", "wrote"} {
			if !strings.Contains(out, want) {
				t.Errorf("hostUsers: false pod output lacks %q (its root owns its image and its volume through idmapped mounts):\n%s", want, out)
			}
		}
	})

	t.Run("oom-killed", func(t *testing.T) {
		k := c.in(t, ns)
		c.apply(t, fmt.Sprintf(`apiVersion: v1
kind: Pod
metadata: {name: hog, namespace: %s}
spec:
  restartPolicy: Never
  containers:
  - name: hog
    image: %s
    command: ["sh", "-c", "tail /dev/zero"]
    resources: {limits: {memory: 32Mi}}
`, ns, busybox))
		c.waitPhase(t, ns, "hog", "Failed")
		if r := k("get", "pod", "hog", "-o", "jsonpath={.status.containerStatuses[0].state.terminated.reason}"); r != "OOMKilled" {
			t.Errorf("a container over its memory limit ended with reason %q, want OOMKilled", r)
		}
	})

	// Pods keep running through a berthd crash and through a kubelet
	// restart: same container, no restart, same IP; a completed pod keeps
	// its logs, and its IP through the crash.
	n := c.nodes[0]
	// (After a kubelet restart the completed pod's IP is gone from its
	// status whatever the runtime says: the kubelet takes IPs only from a
	// READY sandbox and keeps a stopped pod's in its memory, in
	// pkg/kubelet/pleg/generic.go getPodIPs. berth reports them; the
	// integration tests check that over the CRI.)
	restarted := func(t *testing.T, what string, keepsCompletedIP bool, restart func() error) {
		k := c.in(t, ns)
		before := podState(t, k, "box")
		helloIP := k("get", "pod", "hello", "-o", "jsonpath={.status.podIP}")
		if helloIP == "" {
			t.Error("a completed pod shows no IP")
		}
		if err := restart(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(3 * time.Second) // a few kubelet sync loops
		if _, err := c.kubectl("wait", "--for=condition=Ready", "node/"+n.name, "--timeout=60s"); err != nil {
			t.Fatal(err)
		}
		c.waitReady(t, ns, "box")
		if after := podState(t, k, "box"); after != before {
			t.Errorf("after %s the pod is %q, was %q (same container, no restart, same IP)", what, after, before)
		}
		if out := k("exec", "box", "--", "echo", "still here"); out != "still here\n" {
			t.Errorf("exec after %s: %q", what, out)
		}
		if out := k("logs", "hello"); !strings.HasPrefix(out, "hello\n") {
			t.Errorf("logs of a completed pod after %s: %q", what, out)
		}
		if ip := k("get", "pod", "hello", "-o", "jsonpath={.status.podIP}"); keepsCompletedIP && ip != helloIP {
			t.Errorf("after %s a completed pod's IP is %q, was %q", what, ip, helloIP)
		}
	}
	t.Run("berthd-crash", func(t *testing.T) {
		restarted(t, "a berthd crash", true, func() error {
			n.berthd.kill()
			return n.startBerthd(n.berthd.cmd.Path)
		})
	})
	t.Run("kubelet-restart", func(t *testing.T) {
		restarted(t, "a kubelet restart", false, func() error {
			n.kubelet.stop(20 * time.Second)
			return n.startKubelet()
		})
	})
}

// podState is a pod's container ID, restart count and IP.
func podState(t *testing.T, k func(...string) string, pod string) string {
	return k("get", "pod", pod, "-o", "jsonpath={.status.containerStatuses[0].containerID} {.status.containerStatuses[0].restartCount} {.status.podIP}")
}

// pinTo is a kubectl run override placing the pod on node.
func pinTo(node string) string {
	return fmt.Sprintf(`{"spec": {"nodeName": %q}}`, node)
}

func deployment(ns, name, image string, replicas int) string {
	return fmt.Sprintf(`apiVersion: apps/v1
kind: Deployment
metadata: {name: %[2]s, namespace: %[1]s}
spec:
  replicas: %[4]d
  selector: {matchLabels: {app: %[2]s}}
  strategy: {rollingUpdate: {maxSurge: 5, maxUnavailable: 2}}
  template:
    metadata: {labels: {app: %[2]s}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: app
        image: %[3]s
        args: ["netexec", "--http-port=8080"]
        readinessProbe: {httpGet: {path: /healthz, port: 8080}, periodSeconds: 1}
`, ns, name, image, replicas)
}

func (c *cluster) waitPhase(t *testing.T, ns, pod string, phases ...string) {
	t.Helper()
	if err := waitFor(120*time.Second, "pod "+pod+" in "+strings.Join(phases, "/"), func() error {
		out, err := c.kubectl("-n", ns, "get", "pod", pod, "-o", "jsonpath={.status.phase}")
		if err != nil {
			return err
		}
		if !contains(phases, out) {
			return fmt.Errorf("phase %q", out)
		}
		return nil
	}); err != nil {
		desc, _ := c.kubectl("-n", ns, "describe", "pod", pod)
		t.Fatalf("%v\n%s", err, desc)
	}
}

func (c *cluster) waitReady(t *testing.T, ns, pod string) {
	t.Helper()
	if _, err := c.kubectl("-n", ns, "wait", "--for=condition=Ready", "pod/"+pod, "--timeout=120s"); err != nil {
		desc, _ := c.kubectl("-n", ns, "describe", "pod", pod)
		t.Fatalf("%v\n%s", err, desc)
	}
}

func unwrapExit(err error) (int, bool) {
	for e := err; e != nil; {
		if ee, ok := e.(*exec.ExitError); ok {
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok {
				return ws.ExitStatus(), true
			}
		}
		u, ok := e.(interface{ Unwrap() error })
		if !ok {
			break
		}
		e = u.Unwrap()
	}
	return 0, false
}

// readLines reads up to n lines from r within timeout.
func readLines(r io.Reader, n int, timeout time.Duration) []string {
	ch := make(chan string)
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			ch <- s.Text()
		}
		close(ch)
	}()
	var lines []string
	deadline := time.After(timeout)
	for len(lines) < n {
		select {
		case l, ok := <-ch:
			if !ok {
				return lines
			}
			lines = append(lines, l)
		case <-deadline:
			return lines
		}
	}
	return lines
}

func httpGet(url string) (string, error) {
	client := http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}
