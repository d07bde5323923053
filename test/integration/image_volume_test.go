package integration

import (
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestImageVolumes (root): a mount naming an image (KEP-4639, Conformance
// in Kubernetes 1.36) gets that image's filesystem read-only, whiteouts
// applied (a many-layer image) or as its one layer (busybox), whole or an
// image_sub_path of it; the image's layers outlive its removal while the
// container uses them; nothing stays mounted after the pod goes (the leak
// check).
func TestImageVolumes(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	multi := ti.Ref("multilayer:latest")
	mustPull(t, b, multi)
	web := ti.Ref("web:latest")
	mustPull(t, b, web)
	pod := podConfig(t, "imgvol")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("reader", img, "sh", "-c", "sleep 1000")
	cfg.Mounts = []*runtime.Mount{
		{ContainerPath: "/multi", Image: &runtime.ImageSpec{Image: multi}},
		{ContainerPath: "/www", Image: &runtime.ImageSpec{Image: web}, ImageSubPath: "www"},
	}
	id := runContainer(t, b, podID, pod, cfg)
	if got := execOut(t, b, id, "sh", "-c", "ls /multi/data; ls /multi/opq; cat /www/index.html"); got != "keep\nnew\nhello from berth\n" {
		t.Fatalf("the image volumes show %q", got)
	}
	resp, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"sh", "-c", "touch /multi/x || touch /www/x"}, Timeout: 10})
	if err != nil || resp.ExitCode == 0 {
		t.Fatalf("an image volume was writable: %v %+v", err, resp)
	}
	// The volume's image may be removed: its layers stay while the
	// container uses them.
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: multi}}); err != nil {
		t.Fatal(err)
	}
	if got := execOut(t, b, id, "cat", "/multi/data/keep"); got != "keep" {
		t.Fatalf("after the image's removal the volume shows %q", got)
	}
	// Refusals, each naming the field: an image that is not there, a sub
	// path out of the image or not in it.
	for name, m := range map[string]*runtime.Mount{
		"missing image": {ContainerPath: "/v", Image: &runtime.ImageSpec{Image: ti.Ref("nosuch:latest")}},
		"escape":        {ContainerPath: "/v", Image: &runtime.ImageSpec{Image: web}, ImageSubPath: "../.."},
		"absent":        {ContainerPath: "/v", Image: &runtime.ImageSpec{Image: web}, ImageSubPath: "no/such/dir"},
	} {
		bad := ctrConfig("bad", img, "true")
		bad.Mounts = []*runtime.Mount{m}
		_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: bad, SandboxConfig: pod})
		if code := statusCode(err); (code != "InvalidArgument" && code != "NotFound") || !strings.Contains(err.Error(), "mounts[0]") {
			t.Errorf("%s: %v, want InvalidArgument or NotFound naming mounts[0]", name, err)
		}
	}
	if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: id, Timeout: 0}); err != nil {
		t.Fatal(err)
	}
	waitExited(t, b, id, 10*time.Second)
	if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
}
