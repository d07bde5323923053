package e2e

import (
	"fmt"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// twoNodeFlows: a Deployment spread over both nodes, pod-to-pod traffic
// from one node's pod subnet to the other's, and a drain that moves one
// node's pods to the other.
func twoNodeFlows(t *testing.T, c *cluster) {
	if len(c.nodes) < 2 {
		t.Fatal("two nodes needed")
	}
	ns := "two-nodes"
	c.mustKubectl(t, "create", "namespace", ns)
	defer c.kubectl("delete", "namespace", ns, "--wait=false")
	k := func(args ...string) string {
		t.Helper()
		return c.mustKubectl(t, append([]string{"-n", ns}, args...)...)
	}
	n1, n2 := c.nodes[0].name, c.nodes[1].name

	manifest := deployment(ns, "spread", agnhost, 6)
	manifest = strings.Replace(manifest, "      terminationGracePeriodSeconds: 5\n", `      terminationGracePeriodSeconds: 5
      topologySpreadConstraints:
      - {maxSkew: 1, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: spread}}}
`, 1)
	c.apply(t, manifest)
	k("rollout", "status", "deployment/spread", "--timeout=120s")
	perNode := podsPerNode(t, k, "app=spread")
	if perNode[n1] != 3 || perNode[n2] != 3 {
		t.Errorf("6 spread replicas landed %v, want 3 on each node", perNode)
	}

	t.Run("pod-to-pod-across-nodes", func(t *testing.T) {
		k := c.in(t, ns)
		k("run", "client", "--image="+busybox, "--overrides", pinTo(n1), "--", "sleep", "100000")
		c.waitReady(t, ns, "client")
		clientIP := k("get", "pod", "client", "-o", "jsonpath={.status.podIP}")
		out := k("get", "pods", "-l", "app=spread", "-o", `jsonpath={range .items[*]}{.metadata.name} {.spec.nodeName} {.status.podIP}{"\n"}{end}`)
		checked := 0
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			f := strings.Fields(line)
			if len(f) != 3 {
				continue
			}
			got, err := c.httpFromPod(ns, "client", f[2], 8080, "/hostname")
			if err != nil || got != f[0] {
				t.Errorf("from %s (%s) to %s on %s (%s): %q %v", "client", n1, f[0], f[1], f[2], got, err)
			}
			// The server sees the client's own pod IP: no NAT between pods.
			if f[1] == n2 {
				src, err := c.httpFromPod(ns, "client", f[2], 8080, "/clientip")
				if err != nil || !strings.HasPrefix(src, clientIP+":") {
					t.Errorf("%s on %s saw the client as %q (%v), want its pod IP %s", f[0], n2, src, err, clientIP)
				}
			}
			checked++
		}
		if checked != 6 {
			t.Errorf("checked %d pods, want 6", checked)
		}
	})

	t.Run("drain", func(t *testing.T) {
		k := c.in(t, ns)
		defer c.kubectl("uncordon", n1)
		// Once n1 is cordoned (tainted unschedulable) the spread
		// constraint leaves it out of its domains (nodeTaintsPolicy:
		// Honor; with the default, Ignore, an empty n1 keeps the skew
		// above 1 and the evicted replicas stay Pending).
		start := time.Now()
		if _, err := c.kubectl("drain", n1, "--ignore-daemonsets", "--delete-emptydir-data", "--force", "--timeout=180s"); err != nil {
			t.Fatal(err)
		}
		k("rollout", "status", "deployment/spread", "--timeout=180s")
		t.Logf("drained %s in %s", n1, time.Since(start).Round(100*time.Millisecond))
		if perNode := podsPerNode(t, k, "app=spread"); perNode[n1] != 0 || perNode[n2] != 6 {
			t.Errorf("after draining %s the replicas are %v, want all 6 on %s", n1, perNode, n2)
		}
		if err := waitFor(60*time.Second, "no pod running on the drained node's berthd", func() error {
			return c.nodes[0].noPodsOf(ns)
		}); err != nil {
			t.Error(err)
		}
	})
}

// httpFromPod GETs path from ip:port inside pod and returns the body. It
// speaks HTTP through busybox nc: Debian's static busybox wget crashes
// (SIGSEGV, on the host too).
func (c *cluster) httpFromPod(ns, pod, ip string, port int, path string) (string, error) {
	out, err := c.kubectl("-n", ns, "exec", pod, "--", "sh", "-c",
		fmt.Sprintf(`printf 'GET %s HTTP/1.0\r\n\r\n' | nc -w 5 %s %d`, path, ip, port))
	if err != nil {
		return out, err
	}
	head, body, ok := strings.Cut(out, "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.") || !strings.Contains(strings.SplitN(head, "\r\n", 2)[0], " 200 ") {
		return out, fmt.Errorf("GET %s from %s: not a 200 answer: %q", path, pod, out)
	}
	return body, nil
}

// podsPerNode counts the running pods matching selector on each node.
func podsPerNode(t *testing.T, k func(...string) string, selector string) map[string]int {
	out := k("get", "pods", "-l", selector, "--field-selector=status.phase=Running", "-o", `jsonpath={range .items[*]}{.spec.nodeName}{"\n"}{end}`)
	m := map[string]int{}
	for _, n := range strings.Fields(out) {
		m[n]++
	}
	return m
}

// noPodsOf fails while the node's berthd still runs a pod of namespace ns
// (the kubelet removes stopped ones later, in its garbage collection).
func (n *node) noPodsOf(ns string) error {
	rt, done, err := n.cri()
	if err != nil {
		return err
	}
	defer done()
	ctx, cancel := ctxTimeout()
	defer cancel()
	list, err := rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{
		State: &runtime.PodSandboxStateValue{State: runtime.PodSandboxState_SANDBOX_READY}}})
	if err != nil {
		return err
	}
	var left []string
	for _, p := range list.Items {
		if p.Metadata.Namespace == ns {
			left = append(left, p.Metadata.Name)
		}
	}
	if len(left) > 0 {
		return fmt.Errorf("pods left: %v", left)
	}
	return nil
}
