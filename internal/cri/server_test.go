package cri

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/berthinfo"
	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/handlerprobe"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/stats"
	"github.com/berth-runtime/berth/internal/store/storetest"
)

// The CRI edge over berth's real managers on empty temporary stores (no
// namespaces, mounts or runtimes: nothing that needs root), served on a
// real unix socket with berthd's interceptors: what a caller's mistakes
// and an empty node answer.

type reports map[string]handlerprobe.Report

func (r reports) Report(name string) (handlerprobe.Report, bool) { rep, ok := r[name]; return rep, ok }

type testEdge struct {
	server *Server
	rt     runtime.RuntimeServiceClient
	img    runtime.ImageServiceClient
	conn   *grpc.ClientConn
}

func newTestEdge(t *testing.T, handlerReports reports) *testEdge {
	t.Helper()
	return newTestEdgeIn(t, t.TempDir(), handlerReports)
}

// newTestEdgeIn serves the edge over the managers of the store in dir.
func newTestEdgeIn(t testing.TB, dir string, handlerReports reports) *testEdge {
	t.Helper()
	db := storetest.Open(t, dir)
	images, err := image.NewService(image.Options{Dir: filepath.Join(dir, "images"), DB: db, Registries: image.NewRegistries(nil, "", time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	cni, err := network.New(network.Options{ConfDir: filepath.Join(dir, "net.d"), StateDir: filepath.Join(dir, "cni")})
	if err != nil {
		t.Fatal(err)
	}
	var containers *container.Manager
	pods, err := pod.NewManager(pod.Options{StateDir: filepath.Join(dir, "state"), DB: db, Handlers: map[string]bool{"runc": true, "crun": true},
		DefaultHandler: "runc", Network: cni}, func(p *pod.Manager) (pod.Containers, error) {
		containers, err = container.NewManager(container.Options{StateDir: filepath.Join(dir, "state", "containers"),
			RootDir: filepath.Join(dir, "containers"), DB: db, Pods: container.PodManager{Manager: p}, Images: images})
		return containers, err
	})
	if err != nil {
		t.Fatal(err)
	}
	edge := NewServer(Options{Images: images, Pods: pods, Containers: containers, Network: cni, Stats: stats.NewCollector(),
		Handlers: []string{"crun", "runc"}, Reports: handlerReports, DefaultHandler: "runc"})
	srv := grpc.NewServer(grpc.ChainUnaryInterceptor(UnaryInterceptor(nil)), grpc.ChainStreamInterceptor(StreamInterceptor),
		grpc.ForceServerCodecV2(edge.Codec()))
	edge.Register(srv)
	sock := filepath.Join(dir, "cri.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(srv.Stop)
	conn, err := grpc.NewClient("unix://"+sock, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &testEdge{server: edge, rt: runtime.NewRuntimeServiceClient(conn), img: runtime.NewImageServiceClient(conn), conn: conn}
}

func wantCode(t *testing.T, what string, err error, code codes.Code, inMessage string) {
	t.Helper()
	st, _ := status.FromError(err)
	if st.Code() != code || !strings.Contains(st.Message(), inMessage) {
		t.Errorf("%s: %v %q, want %v naming %q", what, st.Code(), st.Message(), code, inMessage)
	}
}

func TestCallersMistakesGetTheirCodesNamingTheField(t *testing.T) {
	e := newTestEdge(t, nil)
	ctx := context.Background()
	_, err := e.rt.RemoveContainer(ctx, &runtime.RemoveContainerRequest{})
	wantCode(t, "RemoveContainer without an ID", err, codes.InvalidArgument, "container_id")
	_, err = e.rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{})
	wantCode(t, "StopPodSandbox without an ID", err, codes.InvalidArgument, "pod_sandbox_id")
	_, err = e.rt.ExecSync(ctx, &runtime.ExecSyncRequest{})
	wantCode(t, "ExecSync without an ID", err, codes.InvalidArgument, "container_id")
	_, err = e.img.ImageStatus(ctx, &runtime.ImageStatusRequest{})
	wantCode(t, "ImageStatus without an image", err, codes.InvalidArgument, "image.image")
	_, err = e.rt.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: "nope"})
	wantCode(t, "ContainerStatus of an unknown container", err, codes.NotFound, "nope")
	_, err = e.rt.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: "nope"})
	wantCode(t, "PodSandboxStatus of an unknown pod", err, codes.NotFound, "nope")
	_, err = e.rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: "nope"})
	wantCode(t, "StartContainer of an unknown container", err, codes.NotFound, "nope")
	_, err = e.rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: &runtime.PodSandboxConfig{}})
	wantCode(t, "RunPodSandbox without metadata", err, codes.InvalidArgument, "metadata")
	_, err = e.rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{RuntimeHandler: "kata",
		Config: &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "a", Namespace: "b", Uid: "c"}}})
	wantCode(t, "RunPodSandbox with an unknown handler", err, codes.InvalidArgument, "kata")
	_, err = e.rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: "nope",
		Config: &runtime.ContainerConfig{Metadata: &runtime.ContainerMetadata{Name: "c"}, Image: &runtime.ImageSpec{Image: "busybox"}}})
	wantCode(t, "CreateContainer in an unknown pod", err, codes.NotFound, "nope")
	// Stop and remove are idempotent: an unknown ID is done already.
	if _, err := e.rt.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: "nope"}); err != nil {
		t.Errorf("StopContainer of an unknown container: %v", err)
	}
	if _, err := e.rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: "nope"}); err != nil {
		t.Errorf("RemovePodSandbox of an unknown pod: %v", err)
	}
	if _, err := e.img.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: "nope:1"}}); err != nil {
		t.Errorf("RemoveImage of an unknown image: %v", err)
	}
	// berth's own services answer the same way.
	call := func(method string, in map[string]any) error {
		req, _ := structpb.NewStruct(in)
		return e.conn.Invoke(ctx, method, req, &structpb.Struct{})
	}
	wantCode(t, "Kill without an ID", call(berthinfo.KillMethod, map[string]any{"signal": 9.0}), codes.InvalidArgument, "id")
	wantCode(t, "Kill without a signal", call(berthinfo.KillMethod, map[string]any{"id": "x"}), codes.InvalidArgument, "signal")
	wantCode(t, "Restart of an unknown container", call(berthinfo.RestartMethod, map[string]any{"id": "nope"}), codes.NotFound, "nope")
}

func TestAnEmptyNodeListsNothing(t *testing.T) {
	e := newTestEdge(t, nil)
	ctx := context.Background()
	pods, err := e.rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil || len(pods.Items) != 0 {
		t.Fatalf("pods: %v %v", pods, err)
	}
	ctrs, err := e.rt.ListContainers(ctx, &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{State: &runtime.ContainerStateValue{}}})
	if err != nil || len(ctrs.Containers) != 0 {
		t.Fatalf("containers: %v %v", ctrs, err)
	}
	imgs, err := e.img.ListImages(ctx, &runtime.ListImagesRequest{})
	if err != nil || len(imgs.Images) != 0 {
		t.Fatalf("images: %v %v", imgs, err)
	}
	st, err := e.img.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: "busybox"}})
	if err != nil || st.Image != nil {
		t.Fatalf("status of a missing image: %v %v (the CRI wants no image and no error)", st, err)
	}
	if _, err := e.rt.ListContainerStats(ctx, &runtime.ListContainerStatsRequest{}); err != nil {
		t.Fatal(err)
	}
	fs, err := e.img.ImageFsInfo(ctx, &runtime.ImageFsInfoRequest{})
	if err != nil || len(fs.ImageFilesystems) != 1 || fs.ImageFilesystems[0].UsedBytes == nil {
		t.Fatalf("image fs info: %v %v", fs, err)
	}
}

func TestVersionAndStatus(t *testing.T) {
	e := newTestEdge(t, reports{"runc": {Ready: true, RecursiveReadOnlyMounts: true}, "crun": {Ready: false, Reason: "cgroups in hybrid mode not supported"}})
	ctx := context.Background()
	v, err := e.rt.Version(ctx, &runtime.VersionRequest{})
	if err != nil || v.RuntimeName != berthinfo.RuntimeName || v.RuntimeApiVersion != berthinfo.CRIVersion {
		t.Fatalf("version: %v %v", v, err)
	}
	st, err := e.rt.Status(ctx, &runtime.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conds := map[string]*runtime.RuntimeCondition{}
	for _, c := range st.Status.Conditions {
		conds[c.Type] = c
	}
	if c := conds[runtime.RuntimeReady]; c == nil || !c.Status {
		t.Errorf("runtime condition %v with a ready default handler", c)
	}
	if c := conds[runtime.NetworkReady]; c == nil || c.Status || c.Reason != "NetworkPluginNotReady" {
		t.Errorf("network condition %v with no CNI config", c)
	}
	if c := conds["berth.io/handler-crun-ready"]; c == nil || c.Status || !strings.Contains(c.Message, "hybrid") {
		t.Errorf("crun's condition %v", c)
	}
	names := []string{}
	for _, h := range st.RuntimeHandlers {
		names = append(names, h.Name)
		if rro := h.Features.GetRecursiveReadOnlyMounts(); rro != (h.Name == "" || h.Name == "runc") {
			t.Errorf("handler %q: recursive read-only mounts %v, as its probe found?", h.Name, rro)
		}
	}
	if strings.Join(names, ",") != ",crun,runc" { // the default (""), then each by name
		t.Errorf("handlers %q", names)
	}

	down := newTestEdge(t, reports{"runc": {Ready: false, Reason: "runc: not found"}})
	st, _ = down.rt.Status(ctx, &runtime.StatusRequest{})
	for _, c := range st.Status.Conditions {
		if c.Type == runtime.RuntimeReady && (c.Status || c.Reason != "DefaultHandlerNotReady") {
			t.Errorf("runtime condition with a default handler that cannot run: %v", c)
		}
	}
}
