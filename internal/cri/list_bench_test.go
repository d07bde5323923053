package cri

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/store"
)

// edgeWithKubeletPods serves the edge over n recorded pods with one
// container each, labelled and annotated as the kubelet makes them.
func edgeWithKubeletPods(t testing.TB, n int) *testEdge {
	t.Helper()
	dir := t.TempDir()
	db, err := store.Open(filepath.Join(dir, "meta.db"))
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *store.Tx) error {
		for i := 0; i < n; i++ {
			podID := fmt.Sprintf("%064x", i+1)
			labels := map[string]string{"io.kubernetes.pod.name": fmt.Sprintf("web-%d", i), "io.kubernetes.pod.namespace": "default",
				"io.kubernetes.pod.uid": fmt.Sprintf("uid-%d", i), "app": "web", "pod-template-hash": "5d8f7c9b4"}
			annotations := map[string]string{"kubernetes.io/config.seen": "2026-12-07T06:00:00Z", "kubernetes.io/config.source": "api"}
			pcfg, _ := proto.Marshal(&runtime.PodSandboxConfig{Metadata: &runtime.PodSandboxMetadata{Name: fmt.Sprintf("web-%d", i),
				Namespace: "default", Uid: fmt.Sprintf("uid-%d", i)}, Labels: labels, Annotations: annotations})
			sb := &pod.Sandbox{ID: podID, State: pod.StateReady, CreatedAt: time.Now(), ConfigProto: pcfg, Handler: "runc", Dir: "/nonexistent"}
			if err := tx.Put(store.Sandboxes, podID, sb); err != nil {
				return err
			}
			ccfg, _ := proto.Marshal(&runtime.ContainerConfig{Metadata: &runtime.ContainerMetadata{Name: "app"},
				Image: &runtime.ImageSpec{Image: "sha256:abc"}, Labels: map[string]string{"io.kubernetes.container.name": "app",
					"io.kubernetes.pod.name": fmt.Sprintf("web-%d", i), "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": fmt.Sprintf("uid-%d", i)},
				Annotations: map[string]string{"io.kubernetes.container.hash": "6d4f8a1e", "io.kubernetes.container.restartCount": "0",
					"io.kubernetes.container.terminationMessagePath": "/dev/termination-log", "io.kubernetes.pod.terminationGracePeriod": "30"}})
			id := fmt.Sprintf("%064x", 1<<20+i)
			c := &container.Container{ID: id, PodID: podID, ConfigProto: ccfg, State: container.StateRunning, CreatedAt: time.Now(),
				ImageName: "docker.io/library/busybox:latest", ImageRef: "docker.io/library/busybox@sha256:def", ImageID: "sha256:abc",
				Bundle: "/nonexistent", Handler: "runc"}
			if err := tx.Put(store.Containers, id, c); err != nil {
				return err
			}
		}
		return nil
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	return newTestEdgeIn(t, dir, nil)
}

// BenchmarkList100 is the kubelet's relist with 100 pods: ListPodSandbox and
// ListContainers over berthd's socket and interceptors.
func BenchmarkList100(b *testing.B) {
	e := edgeWithKubeletPods(b, 100)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		pods, err := e.rt.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
		if err != nil || len(pods.Items) != 100 {
			b.Fatalf("%d pods, %v", len(pods.GetItems()), err)
		}
		ctrs, err := e.rt.ListContainers(ctx, &runtime.ListContainersRequest{})
		if err != nil || len(ctrs.Containers) != 100 {
			b.Fatalf("%d containers, %v", len(ctrs.GetContainers()), err)
		}
	}
}

// TestRelistsAreAnsweredOnceUntilSomethingChanges: an unchanged relist is
// the same answer, sent as it was encoded; a change, or another filter,
// makes a new one.
func TestRelistsAreAnsweredOnceUntilSomethingChanges(t *testing.T) {
	e := edgeWithKubeletPods(t, 3)
	ctx := context.Background()
	srv := e.server
	first, _ := srv.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	again, _ := srv.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if first != again || len(first.Items) != 3 {
		t.Fatalf("an unchanged relist was made again (%p, %p) or is wrong: %d pods", first, again, len(first.Items))
	}
	wire, cached, err := srv.lists.encoded(first)
	decoded := &runtime.ListPodSandboxResponse{}
	if !cached || err != nil || proto.Unmarshal(wire, decoded) != nil || !proto.Equal(decoded, first) {
		t.Fatalf("the cached answer's encoding: cached %v, err %v, decodes to %v", cached, err, decoded)
	}
	ready := &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{State: &runtime.PodSandboxStateValue{State: runtime.PodSandboxState_SANDBOX_READY}}}
	if filtered, _ := srv.ListPodSandbox(ctx, ready); filtered == first {
		t.Fatal("another filter got the unfiltered answer")
	}
	podID := first.Items[0].Id
	if _, err := e.rt.UpdatePodSandboxResources(ctx, &runtime.UpdatePodSandboxResourcesRequest{PodSandboxId: podID,
		Resources: &runtime.LinuxContainerResources{CpuShares: 512}}); err != nil {
		t.Fatal(err)
	}
	if after, _ := srv.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{}); after == first {
		t.Fatal("a relist after a change is the old answer")
	}
	// Over the socket the client reads what it would have without the cache.
	over, err := e.rt.ListContainers(ctx, &runtime.ListContainersRequest{})
	direct, _ := srv.ListContainers(ctx, &runtime.ListContainersRequest{})
	if err != nil || !proto.Equal(over, direct) || len(over.Containers) != 3 {
		t.Fatalf("containers over the socket: %v %v", over, err)
	}
}

// BenchmarkList100Floor is what any runtime's relist of 100 pods costs a
// client at the least, whatever the server does: the two answers' decoding
// (as the gRPC client does it, into new messages) and two round trips of
// a call that carries nothing (Version). BenchmarkList100 against it is
// berthd's own share.
func BenchmarkList100Floor(b *testing.B) {
	e := edgeWithKubeletPods(b, 100)
	ctx := context.Background()
	pods, _ := e.server.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	ctrs, _ := e.server.ListContainers(ctx, &runtime.ListContainersRequest{})
	podWire, _, err := e.server.lists.encoded(pods)
	if err != nil {
		b.Fatal(err)
	}
	ctrWire, _, err := e.server.lists.encoded(ctrs)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("answers: %d bytes of pods, %d bytes of containers", len(podWire), len(ctrWire))
	b.Run("decode", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			p, c := &runtime.ListPodSandboxResponse{}, &runtime.ListContainersResponse{}
			if proto.Unmarshal(podWire, p) != nil || proto.Unmarshal(ctrWire, c) != nil || len(p.Items) != 100 || len(c.Containers) != 100 {
				b.Fatal("the kept answers do not decode to 100 pods and 100 containers")
			}
		}
	})
	b.Run("round-trips", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			for range 2 {
				if _, err := e.rt.Version(ctx, &runtime.VersionRequest{}); err != nil {
					b.Fatal(err)
				}
			}
		}
	})
}
