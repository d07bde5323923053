package integration

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func podIP(t *testing.T, b *berthd, podID string) *runtime.PodSandboxNetworkStatus {
	t.Helper()
	st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: podID})
	if err != nil {
		t.Fatal(err)
	}
	return st.Status.Network
}

// webPod runs busybox httpd serving "hello from berth" on port 80.
func webPod(t *testing.T, b *berthd, img string, pod *runtime.PodSandboxConfig) string {
	t.Helper()
	podID := runPod(t, b, pod)
	runContainer(t, b, podID, pod, ctrConfig("web", img, "httpd", "-f", "-p", "80", "-h", "/www"))
	return podID
}

func TestPodsTalkOverTheDefaultNetwork(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	web := mustPull(t, b, ti.Ref("web:latest"))
	serverID := webPod(t, b, web, podConfig(t, "server"))
	clientPod := podConfig(t, "client")
	clientID := runPod(t, b, clientPod)
	client := runContainer(t, b, clientID, clientPod, ctrConfig("client", web, "sleep", "1000"))

	sip, cip := podIP(t, b, serverID).Ip, podIP(t, b, clientID).Ip
	if net.ParseIP(sip) == nil || net.ParseIP(cip) == nil || sip == cip || !strings.HasPrefix(sip, "10.88.") {
		t.Fatalf("pod IPs %q and %q", sip, cip)
	}
	var page string
	for i := 0; i < 50; i++ { // httpd may still be starting
		resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: client, Cmd: []string{"wget", "-q", "-O", "-", "http://" + sip + "/"}, Timeout: 10})
		if err == nil && resp.ExitCode == 0 {
			page = string(resp.Stdout)
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if page != "hello from berth\n" {
		t.Fatalf("page from the other pod: %q", page)
	}
	if got := execOut(t, b, client, "ip", "-o", "-4", "addr", "show", "eth0"); !strings.Contains(got, cip+"/16") {
		t.Fatalf("eth0 inside the pod: %q", got)
	}
}

func TestHostPortServesOnLoopback(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	web := mustPull(t, b, ti.Ref("web:latest"))
	port := freeTCPPort(t)
	pod := podConfig(t, "hostport")
	pod.PortMappings = []*runtime.PortMapping{{Protocol: runtime.Protocol_TCP, ContainerPort: 80, HostPort: int32(port), HostIp: "127.0.0.1"}}
	webPod(t, b, web, pod)
	body := fetch(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if body != "hello from berth\n" {
		t.Fatalf("hostPort %d on 127.0.0.1 served %q", port, body)
	}
}

func freeTCPPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func TestHostNetworkPod(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "hostnet")
	pod.Linux.SecurityContext.NamespaceOptions.Network = runtime.NamespaceMode_NODE
	podID := runPod(t, b, pod)
	cfg := ctrConfig("c", img, "sleep", "1000")
	cfg.Linux.SecurityContext.NamespaceOptions.Network = runtime.NamespaceMode_NODE
	id := runContainer(t, b, podID, pod, cfg)
	hostIfaces, _ := net.Interfaces()
	got := execOut(t, b, id, "ip", "-o", "link")
	if strings.Count(got, "\n") != len(hostIfaces) {
		t.Fatalf("host network pod sees %d links, the host has %d:\n%s", strings.Count(got, "\n"), len(hostIfaces), got)
	}
	ip := podIP(t, b, podID).Ip
	if ip == "" || net.ParseIP(ip) == nil || strings.HasPrefix(ip, "10.88.") {
		t.Fatalf("host network pod IP %q, want the node's", ip)
	}
	if len(bridgePorts("berth0")) != 0 {
		t.Fatal("a host network pod got a veth")
	}
}

func TestBrokenNetworkConfigFailsCleanly(t *testing.T) {
	requireRoot(t)
	confDir := t.TempDir()
	os.WriteFile(filepath.Join(confDir, "10-broken.conflist"), []byte(`{"cniVersion":"1.0.0","name":"broken","plugins":[
		{"type":"bridge","bridge":"berthbroken0","ipam":{"type":"host-local","ranges":[[{"subnet":"10.77.0.0/33"}]]}}]}`), 0o644)
	b := startBerthd(t, fmt.Sprintf("[network]\nconf_dir = %q\n", confDir))
	_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: podConfig(t, "broken")})
	if err == nil || !strings.Contains(err.Error(), "10.77.0.0/33") {
		t.Fatalf("want the plugin's own message about the bad subnet, got %v", err)
	}
	list, _ := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
	if len(list.Items) != 0 {
		t.Fatalf("pods after a failed network setup: %v", list.Items)
	}
	b.assertNoLeaks()
	exec0 := bridgePorts("berthbroken0")
	if len(exec0) != 0 {
		t.Fatalf("veth left on the broken bridge: %v", exec0)
	}
}

func TestNetworkReadyFollowsTheConfDir(t *testing.T) {
	requireRoot(t)
	confDir := t.TempDir()
	b := startBerthd(t, fmt.Sprintf("[network]\nconf_dir = %q\ndefault_network = false\n", confDir))
	cond := func() *runtime.RuntimeCondition {
		st, err := b.RT.Status(ctxT(t), &runtime.StatusRequest{})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range st.Status.Conditions {
			if c.Type == runtime.NetworkReady {
				return c
			}
		}
		return nil
	}
	if c := cond(); c.Status || c.Reason != "NetworkPluginNotReady" || !strings.Contains(c.Message, confDir) {
		t.Fatalf("without a network: %+v", c)
	}
	_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: podConfig(t, "nonet")})
	if statusCode(err) != "FailedPrecondition" {
		t.Fatalf("a pod without a network: %v", err)
	}
	os.WriteFile(filepath.Join(confDir, "10-late.conflist"), []byte(fmt.Sprintf(`{"cniVersion":"1.0.0","name":"late","plugins":[
		{"type":"bridge","bridge":"berth0","isGateway":true,"ipam":{"type":"host-local","ranges":[[{"subnet":"10.88.0.0/16"}]],"dataDir":%q}}]}`,
		filepath.Join(b.State, "cni", "ipam"))), 0o644)
	deadline := time.Now().Add(5 * time.Second)
	for !cond().Status {
		if time.Now().After(deadline) {
			t.Fatalf("a network installed later was not picked up: %+v", cond())
		}
		time.Sleep(200 * time.Millisecond)
	}
	podID := runPod(t, b, podConfig(t, "late"))
	if ip := podIP(t, b, podID).Ip; !strings.HasPrefix(ip, "10.88.") {
		t.Fatalf("pod IP on the late network: %q", ip)
	}
}

func TestStopPodTwiceAndAfterNetnsDeleted(t *testing.T) {
	requireRoot(t)
	b := startBerthd(t, "")
	podID := runPod(t, b, podConfig(t, "stopper"))
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	if ips := allocatedIPs(filepath.Join(b.State, "cni", "ipam")); len(ips) != 0 {
		t.Fatalf("IPs still allocated after stop: %v", ips)
	}
	other := runPod(t, b, podConfig(t, "handdeleted"))
	nsPath := filepath.Join(b.State, "pods", other, "ns", "net")
	if out, err := execCommand("umount", nsPath); err != nil {
		t.Fatalf("umount %s: %v %s", nsPath, err, out)
	}
	os.Remove(nsPath)
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: other}); err != nil {
		t.Fatalf("stop after the netns was deleted by hand: %v", err)
	}
	if ips := allocatedIPs(filepath.Join(b.State, "cni", "ipam")); len(ips) != 0 {
		t.Fatalf("IPs still allocated: %v", ips)
	}
}

func TestManyPodCyclesLeakNothing(t *testing.T) {
	requireRoot(t)
	b := startBerthd(t, "")
	port := freeTCPPort(t)
	for i := 0; i < 300; i++ {
		pod := podConfig(t, fmt.Sprintf("cycle%d", i))
		if i%10 == 0 { // some with a hostPort, so portmap rules come and go too
			pod.PortMappings = []*runtime.PortMapping{{ContainerPort: 80, HostPort: int32(port)}}
		}
		id := runPod(t, b, pod)
		if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatalf("cycle %d stop: %v", i, err)
		}
		if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
			t.Fatalf("cycle %d remove: %v", i, err)
		}
	}
	b.assertNoLeaks()
	if entries, _ := os.ReadDir("/var/run/netns"); len(entries) != 0 {
		t.Logf("note: /var/run/netns holds %d entries (not berth's: berth pins under its state dir)", len(entries))
	}
}

func TestDefaultNetworkMasqueradesItsSubnet(t *testing.T) {
	requireRoot(t)
	startBerthd(t, "")
	if out, err := execCommand("iptables", "-t", "nat", "-C", "POSTROUTING", "-s", "10.88.0.0/16", "!", "-d", "10.88.0.0/16",
		"-m", "comment", "--comment", "berth default network", "-j", "MASQUERADE"); err != nil {
		t.Fatalf("no masquerade rule for the default network: %v %s", err, out)
	}
}

// fetch GETs url, retrying for 5 s while the server starts; "" if it never answers.
func fetch(url string) string {
	for i := 0; i < 50; i++ {
		resp, err := http.Get(url)
		if err == nil {
			data, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return string(data)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return ""
}
