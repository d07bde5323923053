package integration

import (
	"context"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestContainerEventsInOrder(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var streams []runtime.RuntimeService_GetContainerEventsClient
	for i := 0; i < 2; i++ { // two subscribers get the same events
		s, err := b.RT.GetContainerEvents(ctx, &runtime.GetEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, s)
	}
	time.Sleep(100 * time.Millisecond) // the subscriptions are in place
	pod := podConfig(t, "events")
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("short", img, "true"))
	waitExited(t, b, id, 10*time.Second)
	if _, err := b.RT.RemoveContainer(ctxT(t), &runtime.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	want := []runtime.ContainerEventType{
		runtime.ContainerEventType_CONTAINER_CREATED_EVENT, runtime.ContainerEventType_CONTAINER_STARTED_EVENT,
		runtime.ContainerEventType_CONTAINER_STOPPED_EVENT, runtime.ContainerEventType_CONTAINER_DELETED_EVENT,
	}
	for n, s := range streams {
		var last int64
		for i, w := range want {
			e, err := s.Recv()
			if err != nil {
				t.Fatalf("subscriber %d, event %d: %v", n, i, err)
			}
			if e.ContainerId != id || e.ContainerEventType != w || e.CreatedAt < last {
				t.Fatalf("subscriber %d, event %d: %v %v at %d", n, i, e.ContainerId, e.ContainerEventType, e.CreatedAt)
			}
			last = e.CreatedAt
			if e.PodSandboxStatus.GetId() != podID {
				t.Fatalf("event without its pod's status: %v", e.PodSandboxStatus)
			}
			switch w {
			case runtime.ContainerEventType_CONTAINER_STOPPED_EVENT:
				if len(e.ContainersStatuses) != 1 || e.ContainersStatuses[0].State != runtime.ContainerState_CONTAINER_EXITED {
					t.Fatalf("stopped event statuses %v", e.ContainersStatuses)
				}
			case runtime.ContainerEventType_CONTAINER_DELETED_EVENT:
				if len(e.ContainersStatuses) != 0 {
					t.Fatalf("deleted event still lists %v", e.ContainersStatuses)
				}
			}
		}
	}
}
