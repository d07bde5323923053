package main

import (
	"context"
	"net"
	"path/filepath"
	"testing"

	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// recordingRuntime is a CRI runtime that answers PodSandboxStatus and
// records CreateContainer requests.
type recordingRuntime struct {
	runtime.UnimplementedRuntimeServiceServer
	created []*runtime.CreateContainerRequest
}

func (r *recordingRuntime) PodSandboxStatus(context.Context, *runtime.PodSandboxStatusRequest) (*runtime.PodSandboxStatusResponse, error) {
	return &runtime.PodSandboxStatusResponse{Status: &runtime.PodSandboxStatus{
		Metadata: &runtime.PodSandboxMetadata{Name: "web", Namespace: "ns", Uid: "u1"},
		Labels:   map[string]string{"app": "web"},
	}}, nil
}

func (r *recordingRuntime) CreateContainer(_ context.Context, req *runtime.CreateContainerRequest) (*runtime.CreateContainerResponse, error) {
	r.created = append(r.created, req)
	return &runtime.CreateContainerResponse{ContainerId: "c1"}, nil
}

// TestCreateContainerSendsTheSandboxConfig: other runtimes (containerd
// 1.6 panics without it) need the pod's config in CreateContainer; the
// CLI sends the one it has, or one rebuilt from the pod's status.
func TestCreateContainerSendsTheSandboxConfig(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "cri.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	rec := &recordingRuntime{}
	runtime.RegisterRuntimeServiceServer(srv, rec)
	go srv.Serve(l)
	defer srv.Stop()
	c, err := (&globalOptions{endpoint: sock, timeout: "5s"}).connect()
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	given := &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "given"}, LogDirectory: "/var/log/x"}
	if _, err := c.createContainer("p1", &runtime.ContainerConfig{}, given); err != nil {
		t.Fatal(err)
	}
	if _, err := c.createContainer("p1", &runtime.ContainerConfig{}, nil); err != nil {
		t.Fatal(err)
	}
	if len(rec.created) != 2 {
		t.Fatalf("%d creates", len(rec.created))
	}
	if sb := rec.created[0].SandboxConfig; sb.GetMetadata().GetName() != "given" || sb.GetLogDirectory() != "/var/log/x" {
		t.Errorf("the given pod config was not sent: %v", sb)
	}
	if sb := rec.created[1].SandboxConfig; sb.GetMetadata().GetName() != "web" || sb.GetMetadata().GetUid() != "u1" || sb.GetLabels()["app"] != "web" {
		t.Errorf("rebuilt pod config: %v", sb)
	}
}
