package cri

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/shim/wire"
	"github.com/berth-runtime/berth/internal/stats"
)

func TestContainerStatusCarriesWhatTheKubeletReads(t *testing.T) {
	cfg := &runtime.ContainerConfig{Metadata: &runtime.ContainerMetadata{Name: "web", Attempt: 2},
		Image: &runtime.ImageSpec{Image: "sha256:abc", UserSpecifiedImage: "busybox"}, Labels: map[string]string{"a": "b"},
		Linux: &runtime.LinuxContainerConfig{Resources: &runtime.LinuxContainerResources{MemoryLimitInBytes: 64 << 20}}}
	data, _ := proto.Marshal(cfg)
	created := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	c := &container.Container{ID: "c1", ConfigProto: data, State: container.StateExited, CreatedAt: created,
		StartedAt: created.Add(time.Second), FinishedAt: created.Add(2 * time.Second), ExitCode: 137, Reason: container.ReasonOOMKilled,
		ImageName: "docker.io/library/busybox:latest", ImageRef: "docker.io/library/busybox@sha256:def", ImageID: "sha256:abc",
		LogPath: "/var/log/pods/x/web/2.log", User: &container.User{UID: 1000, GID: 100, Groups: []uint32{100, 4}}, StopSignal: "SIGQUIT"}
	st := containerStatus(c)
	if st.State != runtime.ContainerState_CONTAINER_EXITED || st.ExitCode != 137 || st.Reason != "OOMKilled" ||
		st.CreatedAt != created.UnixNano() || st.StartedAt != created.Add(time.Second).UnixNano() || st.FinishedAt != created.Add(2*time.Second).UnixNano() {
		t.Fatalf("state and times: %v", st)
	}
	if st.Metadata.Attempt != 2 || st.Image.UserSpecifiedImage != "busybox" || st.ImageRef != c.ImageRef || st.ImageId != "sha256:abc" || st.LogPath != c.LogPath {
		t.Fatalf("identity: %v", st)
	}
	if st.Resources.Linux.MemoryLimitInBytes != 64<<20 || st.User.Linux.Uid != 1000 || !slices.Equal(st.User.Linux.SupplementalGroups, []int64{100, 4}) {
		t.Fatalf("resources and user: %v", st)
	}
	if st.StopSignal != runtime.Signal_SIGNAL_SIGQUIT {
		t.Fatalf("stop signal %v", st.StopSignal)
	}
	created2 := &container.Container{ID: "c2", State: container.StateCreated, CreatedAt: created}
	if st := containerStatus(created2); st.StartedAt != 0 || st.FinishedAt != 0 || st.State != runtime.ContainerState_CONTAINER_CREATED || st.User != nil {
		t.Fatalf("a created container: %v", st)
	}
	if containerState(&container.Container{State: container.StateUnknown}) != runtime.ContainerState_CONTAINER_UNKNOWN {
		t.Fatal("unknown state")
	}
}

func TestSandboxStatusShowsItsAddresses(t *testing.T) {
	cfg := &runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: "p", Namespace: "n", Uid: "u"},
		Linux: &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}}}}
	data, _ := proto.Marshal(cfg)
	sb := &pod.Sandbox{ID: "p1", State: pod.StateReady, ConfigProto: data, Handler: "crun", CreatedAt: time.Unix(10, 0),
		Network: &network.Attachment{IPs: []string{"10.88.0.5", "fd00::5"}}}
	st := sandboxStatus(sb)
	if st.State != runtime.PodSandboxState_SANDBOX_READY || st.Network.Ip != "10.88.0.5" || len(st.Network.AdditionalIps) != 1 ||
		st.Network.AdditionalIps[0].Ip != "fd00::5" || st.RuntimeHandler != "crun" || st.CreatedAt != 10e9 ||
		st.Linux.Namespaces.Options.Pid != runtime.NamespaceMode_CONTAINER {
		t.Fatalf("ready pod: %v", st)
	}
	sb.State, sb.LastIPs, sb.Network = pod.StateNotReady, []string{"10.88.0.5"}, nil
	if st := sandboxStatus(sb); st.State != runtime.PodSandboxState_SANDBOX_NOTREADY || st.Network.Ip != "10.88.0.5" {
		t.Fatalf("a stopped pod keeps its last address: %v", st)
	}
}

func TestImagesAsTheCRIShowsThem(t *testing.T) {
	r := &image.Record{ID: "sha256:" + "a1b2", RepoTags: []string{"busybox:latest"}, Size: 42, User: "1000:1000", Pinned: true}
	img := toCRIImage(r)
	if img.Id != "sha256:a1b2" || img.Size != 42 || !img.Pinned || img.Uid.GetValue() != 1000 || img.Username != "" {
		t.Fatalf("%v", img)
	}
	r.User = "nginx"
	if img := toCRIImage(r); img.Uid != nil || img.Username != "nginx" {
		t.Fatalf("a named user: %v", img)
	}
	if imageRef(nil) != "" || imageRef(&runtime.ImageSpec{Image: "x"}) != "x" {
		t.Fatal("imageRef")
	}
}

func TestLabelSelectorsMatchAllTheirLabels(t *testing.T) {
	labels := map[string]string{"app": "web", "tier": "front"}
	for sel, want := range map[string]bool{"": true, "app=web": true, "app=web,tier=front": true, "app=db": false, "zone=x": false} {
		selector := map[string]string{}
		for _, kv := range strings.Split(sel, ",") {
			if k, v, ok := strings.Cut(kv, "="); ok {
				selector[k] = v
			}
		}
		if got := labelsMatch(labels, selector); got != want {
			t.Errorf("%q: %v", sel, got)
		}
	}
}

func TestInterceptorMapsErrorsAndPanicsAndReportsActivity(t *testing.T) {
	calls := 0
	icpt := UnaryInterceptor(func() { calls++ })
	info := &grpc.UnaryServerInfo{FullMethod: "/runtime.v1.RuntimeService/ContainerStatus"}
	_, err := icpt(context.Background(), nil, info, func(context.Context, any) (any, error) {
		return nil, errdefs.NotFound("container %q not found", "x")
	})
	if status.Code(err) != codes.NotFound {
		t.Fatalf("a domain NotFound became %v", err)
	}
	_, err = icpt(context.Background(), nil, info, func(context.Context, any) (any, error) { panic("boom") })
	if st, _ := status.FromError(err); st.Code() != codes.Internal || !strings.Contains(st.Message(), "ContainerStatus") {
		t.Fatalf("a panic became %v", err)
	}
	_, err = icpt(context.Background(), nil, info, func(context.Context, any) (any, error) { return nil, errors.New("plain") })
	if status.Code(err) == codes.OK {
		t.Fatal("a plain error became OK")
	}
	if calls != 3 {
		t.Fatalf("activity reported %d times for 3 calls", calls)
	}
	if err := requireField(false, "pod_sandbox_id"); !errdefs.Is(err, errdefs.ErrInvalidArgument) || !strings.Contains(err.Error(), "pod_sandbox_id") {
		t.Fatalf("requireField: %v", err)
	}
}

func TestStreamsSendInBatches(t *testing.T) {
	items := make([]int, 2*streamBatch+5)
	var sizes []int
	if err := sendBatches(items, func(b []int) error { sizes = append(sizes, len(b)); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(sizes, []int{streamBatch, streamBatch, 5}) {
		t.Fatalf("batches %v", sizes)
	}
	if err := sendBatches(items, func([]int) error { return errors.New("gone") }); err == nil {
		t.Fatal("a failed send was not returned")
	}
	sizes = nil
	sendBatches([]int{}, func(b []int) error { sizes = append(sizes, len(b)); return nil })
	if len(sizes) != 0 {
		t.Fatal("an empty list sent a batch")
	}
}

func TestMetricValuesMatchTheirDescriptors(t *testing.T) {
	descs := map[string]*runtime.MetricDescriptor{}
	for _, d := range metricDescriptors() {
		if descs[d.Name] != nil {
			t.Errorf("metric %s described twice", d.Name)
		}
		descs[d.Name] = d
	}
	in := metricInput{sample: &stats.Sample{Time: time.Now(), CPUUsageNanos: 3e9, CPUUserNanos: 2e9, CPUSystemNanos: 1e9, MemoryUsage: 100},
		c: &container.Container{}, layer: 7, logLoss: wire.LogLoss{Lines: 2, Bytes: 20}}
	for _, m := range containerMetrics {
		d := descs[m.name]
		if d == nil || d.Help == "" {
			t.Fatalf("%s has no descriptor", m.name)
		}
		for _, v := range m.values(in) {
			if len(v.labels) != len(m.extra) || len(d.LabelKeys) != len(metricLabels)+len(m.extra) {
				t.Errorf("%s: %d label values for %d extra keys", m.name, len(v.labels), len(m.extra))
			}
		}
	}
	if v := descs["container_cpu_usage_seconds_total"]; v == nil {
		t.Fatal("no cpu usage metric")
	}
}
