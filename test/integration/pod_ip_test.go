package integration

import (
	"path/filepath"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestStoppedPodKeepsItsIPInStatus (root): a stopped pod's status shows the
// IP it had until it is removed (the kubelet keeps status.podIP of
// completed pods from it), also after a berthd restart, while the address
// itself is released at stop.
func TestStoppedPodKeepsItsIPInStatus(t *testing.T) {
	b := startBerthd(t, "")
	pod := podConfig(t, "lastip")
	id := runPod(t, b, pod)
	ip := statusIP(t, b, id)
	if ip == "" {
		t.Fatal("a ready pod has no IP")
	}
	if _, err := b.RT.StopPodSandbox(ctxT(t), &runtime.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		t.Fatal(err)
	}
	if got := statusIP(t, b, id); got != ip {
		t.Fatalf("stopped pod shows IP %q, had %q", got, ip)
	}
	for _, a := range allocatedIPs(filepath.Join(b.State, "cni", "ipam")) {
		if filepath.Base(a) == ip {
			t.Fatalf("%s is still allocated after the stop", ip)
		}
	}
	b.Stop()
	b.Restart()
	if got := statusIP(t, b, id); got != ip {
		t.Fatalf("after a restart the stopped pod shows IP %q, had %q", got, ip)
	}
}

func statusIP(t *testing.T, b *berthd, id string) string {
	t.Helper()
	st, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: id})
	if err != nil {
		t.Fatal(err)
	}
	return st.Status.GetNetwork().GetIp()
}
