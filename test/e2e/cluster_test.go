package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// cluster is a control plane on 127.0.0.1 (etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler), every part with a certificate
// of the cluster's own CA, and the berth nodes that joined it.
type cluster struct {
	dir        string
	bin        string // the Kubernetes binaries (hack/build-k8s.sh)
	pki        *pki
	apiURL     string
	kubeconfig string // system:masters
	procs      []*proc
	nodes      []*node
}

func startCluster(dir, bin string) (*cluster, error) {
	c := &cluster{dir: dir, bin: bin}
	pkiDir := filepath.Join(dir, "pki")
	if err := os.MkdirAll(pkiDir, 0o700); err != nil {
		return nil, err
	}
	var err error
	if c.pki, err = newPKI(pkiDir); err != nil {
		return nil, err
	}
	if err := c.pki.serviceAccountKeys(); err != nil {
		return nil, err
	}
	certs := []struct {
		name, cn string
		orgs     []string
		hosts    []string
	}{
		{"apiserver", "kube-apiserver", nil, []string{"127.0.0.1", "10.96.0.1", "localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc"}},
		{"apiserver-kubelet-client", "kube-apiserver-kubelet-client", []string{"system:masters"}, nil},
		{"admin", "berth-e2e-admin", []string{"system:masters"}, nil},
		{"controller-manager", "system:kube-controller-manager", nil, nil},
		{"scheduler", "system:kube-scheduler", nil, nil},
	}
	for _, ct := range certs {
		if err := c.pki.issue(ct.name, ct.cn, ct.orgs, ct.hosts...); err != nil {
			return nil, err
		}
	}
	ports := make([]int, 4)
	for i := range ports {
		if ports[i], err = freePort(); err != nil {
			return nil, err
		}
	}
	etcdClient, etcdPeer, apiPort, schedPort := ports[0], ports[1], ports[2], ports[3]
	c.apiURL = fmt.Sprintf("https://127.0.0.1:%d", apiPort)
	c.kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	for _, kc := range []struct{ file, cert string }{
		{c.kubeconfig, "admin"}, {"controller-manager.kubeconfig", "controller-manager"}, {"scheduler.kubeconfig", "scheduler"},
	} {
		if err := c.writeKubeconfig(kc.file, kc.cert); err != nil {
			return nil, err
		}
	}
	etcdURL := fmt.Sprintf("http://127.0.0.1:%d", etcdClient)
	peerURL := fmt.Sprintf("http://127.0.0.1:%d", etcdPeer)
	if err := c.start("etcd", "etcd", "--name", "e2e", "--data-dir", filepath.Join(dir, "etcd"),
		"--listen-client-urls", etcdURL, "--advertise-client-urls", etcdURL,
		"--listen-peer-urls", peerURL, "--initial-advertise-peer-urls", peerURL,
		"--initial-cluster", "e2e="+peerURL, "--log-level", "warn"); err != nil {
		return c, err
	}
	p := c.pki.path
	if err := c.start("kube-apiserver", "kube-apiserver", "--etcd-servers", etcdURL,
		"--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(apiPort), "--advertise-address", "127.0.0.1",
		"--service-cluster-ip-range", "10.96.0.0/16",
		"--client-ca-file", p("ca.crt"), "--tls-cert-file", p("apiserver.crt"), "--tls-private-key-file", p("apiserver.key"),
		"--service-account-issuer", "https://kubernetes.default.svc", "--service-account-key-file", p("sa.pub"),
		"--service-account-signing-key-file", p("sa.key"),
		"--authorization-mode", "Node,RBAC", "--allow-privileged=true",
		"--kubelet-client-certificate", p("apiserver-kubelet-client.crt"), "--kubelet-client-key", p("apiserver-kubelet-client.key"),
		"--kubelet-preferred-address-types", "Hostname"); err != nil {
		return c, err
	}
	if err := waitFor(90*time.Second, "kube-apiserver ready", func() error {
		_, err := c.kubectl("get", "--raw", "/readyz")
		return err
	}); err != nil {
		return c, fmt.Errorf("%w\n%s", err, c.procs[len(c.procs)-1].tail(3000))
	}
	if err := c.start("kube-controller-manager", "kube-controller-manager",
		"--kubeconfig", filepath.Join(dir, "controller-manager.kubeconfig"),
		"--authentication-kubeconfig", filepath.Join(dir, "controller-manager.kubeconfig"),
		"--authorization-kubeconfig", filepath.Join(dir, "controller-manager.kubeconfig"),
		"--bind-address", "127.0.0.1", "--secure-port", "0", "--leader-elect=false",
		"--use-service-account-credentials=true", "--service-account-private-key-file", p("sa.key"),
		"--root-ca-file", p("ca.crt"), "--cluster-signing-cert-file", p("ca.crt"), "--cluster-signing-key-file", p("ca.key")); err != nil {
		return c, err
	}
	if err := c.start("kube-scheduler", "kube-scheduler",
		"--kubeconfig", filepath.Join(dir, "scheduler.kubeconfig"),
		"--authentication-kubeconfig", filepath.Join(dir, "scheduler.kubeconfig"),
		"--authorization-kubeconfig", filepath.Join(dir, "scheduler.kubeconfig"),
		"--bind-address", "127.0.0.1", "--secure-port", fmt.Sprint(schedPort), "--leader-elect=false"); err != nil {
		return c, err
	}
	// The namespace controllers and service accounts are ready when
	// "default" has its service account.
	return c, waitFor(90*time.Second, "service account default/default", func() error {
		_, err := c.kubectl("get", "serviceaccount", "default")
		return err
	})
}

func (c *cluster) start(name, binary string, args ...string) error {
	p, err := startProc(c.dir, name, filepath.Join(c.bin, binary), args...)
	if err != nil {
		return err
	}
	c.procs = append(c.procs, p)
	time.Sleep(200 * time.Millisecond)
	if !p.running() {
		return fmt.Errorf("%s exited at once:\n%s", name, p.tail(3000))
	}
	return nil
}

// writeKubeconfig writes a kubeconfig (relative names go under the
// cluster's dir) that authenticates with the named certificate.
func (c *cluster) writeKubeconfig(file, cert string) error {
	if !filepath.IsAbs(file) {
		file = filepath.Join(c.dir, file)
	}
	return os.WriteFile(file, []byte(fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: e2e
  cluster: {server: %s, certificate-authority: %s}
users:
- name: %s
  user: {client-certificate: %s, client-key: %s}
contexts:
- name: e2e
  context: {cluster: e2e, user: %s}
current-context: e2e
`, c.apiURL, c.pki.path("ca.crt"), cert, c.pki.path(cert+".crt"), c.pki.path(cert+".key"), cert)), 0o600)
}

// kubectl runs kubectl as the cluster's admin; the error holds its output.
func (c *cluster) kubectl(args ...string) (string, error) {
	return c.kubectlIn("", args...)
}

// kubectlIn is kubectl with stdin.
func (c *cluster) kubectlIn(stdin string, args ...string) (string, error) {
	cmd := exec.Command(filepath.Join(c.bin, "kubectl"), append([]string{"--kubeconfig", c.kubeconfig, "--request-timeout", "60s"}, args...)...)
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("kubectl %s: %w: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// mustKubectl is kubectl that fails the test on error.
func (c *cluster) mustKubectl(t *testing.T, args ...string) string {
	t.Helper()
	out, err := c.kubectl(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// apply applies a manifest.
func (c *cluster) apply(t *testing.T, manifest string) {
	t.Helper()
	if _, err := c.kubectlIn(manifest, "apply", "-f", "-"); err != nil {
		t.Fatal(err)
	}
}

// stop ends the nodes and then the control plane, newest first.
func (c *cluster) stop() {
	for i := len(c.nodes) - 1; i >= 0; i-- {
		c.nodes[i].stop()
	}
	for i := len(c.procs) - 1; i >= 0; i-- {
		c.procs[i].stop(10 * time.Second)
	}
}

// in is kubectl in namespace ns that fails t on error (each subtest takes
// its own: failing a parent from a subtest is not allowed).
func (c *cluster) in(t *testing.T, ns string) func(args ...string) string {
	return func(args ...string) string {
		t.Helper()
		return c.mustKubectl(t, append([]string{"-n", ns}, args...)...)
	}
}
