package integration

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestPodAndContainerBadInput(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "bad")
	podID := runPod(t, b, pod)
	id := createContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))

	expect := func(what string, err error, code, mention string) {
		t.Helper()
		if statusCode(err) != code || !strings.Contains(err.Error(), mention) {
			t.Errorf("%s: want %s mentioning %q, got %v", what, code, mention, err)
		}
	}
	_, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{})
	expect("pod without config", err, "InvalidArgument", "config")
	_, err = b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "x"}}})
	expect("pod without uid", err, "InvalidArgument", "uid")
	other := proto.Clone(pod).(*runtime.PodSandboxConfig)
	other.Hostname = "another"
	_, err = b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: other})
	expect("another pod with the same name", err, "AlreadyExists", podID)
	// The same request again (the kubelet retrying after a timeout) gets the same pod.
	again, err := b.RT.RunPodSandbox(ctxT(t), &runtime.RunPodSandboxRequest{Config: pod})
	if err != nil || again.PodSandboxId != podID {
		t.Errorf("retried RunPodSandbox: %v %v, want pod %s", again, err, podID)
	}

	create := func(cfg *runtime.ContainerConfig) error {
		_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: cfg, SandboxConfig: pod})
		return err
	}
	expect("container without metadata", create(&runtime.ContainerConfig{Image: &runtime.ImageSpec{Image: img}}), "InvalidArgument", "metadata")
	expect("container without image", create(&runtime.ContainerConfig{Metadata: &runtime.ContainerMetadata{Name: "x"}}), "InvalidArgument", "image")
	expect("unknown image", create(ctrConfig("x", ti.Ref("nothere:1"), "true")), "NotFound", "nothere")
	expect("duplicate container", create(ctrConfig("c", img, "true")), "AlreadyExists", id)
	missing := ctrConfig("m", img, "true")
	missing.Mounts = []*runtime.Mount{{ContainerPath: "/data", HostPath: "/nonexistent/berth-src"}}
	expect("missing mount source", create(missing), "InvalidArgument", "/nonexistent/berth-src")
	escape := ctrConfig("e", img, "true")
	escape.LogPath = "../../etc/evil.log"
	expect("log path escaping", create(escape), "InvalidArgument", "log")
	nocmd := ctrConfig("n", img)
	nocmd.Command = nil
	nocmd.Args = nil
	if err := create(nocmd); err != nil { // the image's cmd (sh) applies
		t.Errorf("container using the image's command: %v", err)
	}
	_, err = b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: "nosuchpod", Config: ctrConfig("x", img, "true")})
	expect("unknown pod", err, "NotFound", "nosuchpod")

	// (StopContainer of an unknown ID succeeds: the CRI asks for idempotence;
	// TestAllCapabilitiesAndPrivileged checks it.)
	for name, call := range map[string]func() error{
		"start": func() error {
			_, err := b.RT.StartContainer(ctxT(t), &runtime.StartContainerRequest{ContainerId: "nosuch"})
			return err
		},
		"status": func() error {
			_, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: "nosuch"})
			return err
		},
		"exec": func() error {
			_, err := b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: "nosuch", Cmd: []string{"true"}})
			return err
		},
		"podstatus": func() error {
			_, err := b.RT.PodSandboxStatus(ctxT(t), &runtime.PodSandboxStatusRequest{PodSandboxId: "nosuch"})
			return err
		},
	} {
		expect(name+" of unknown ID", call(), "NotFound", "nosuch")
	}
	_, err = b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"true"}})
	expect("exec in a created container", err, "FailedPrecondition", "not running")
	_, err = b.RT.ExecSync(ctxT(t), &runtime.ExecSyncRequest{ContainerId: id})
	expect("exec without command", err, "InvalidArgument", "empty")
	startContainer(t, b, id)
	_, err = b.RT.StartContainer(ctxT(t), &runtime.StartContainerRequest{ContainerId: id})
	expect("second start", err, "FailedPrecondition", "running")
	// Removing unknown containers and pods succeeds.
	if _, err := b.RT.RemoveContainer(ctxT(t), &runtime.RemoveContainerRequest{ContainerId: "nosuch"}); err != nil {
		t.Errorf("remove unknown container: %v", err)
	}
	if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: "nosuch"}); err != nil {
		t.Errorf("remove unknown pod: %v", err)
	}
	// A running container is removed by force.
	if _, err := b.RT.RemoveContainer(ctxT(t), &runtime.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatalf("remove running container: %v", err)
	}
}
