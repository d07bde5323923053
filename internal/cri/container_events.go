package cri

import (
	"fmt"

	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/errdefs"
)

var eventTypes = map[container.EventType]runtime.ContainerEventType{
	container.EventCreated: runtime.ContainerEventType_CONTAINER_CREATED_EVENT,
	container.EventStarted: runtime.ContainerEventType_CONTAINER_STARTED_EVENT,
	container.EventStopped: runtime.ContainerEventType_CONTAINER_STOPPED_EVENT,
	container.EventDeleted: runtime.ContainerEventType_CONTAINER_DELETED_EVENT,
}

// GetContainerEvents streams container events with the pod's status and
// its containers' statuses, as the kubelet's evented PLEG wants them. A
// subscriber that falls behind is cut off (ResourceExhausted) and
// resubscribes; it never slows the runtime.
func (s *Server) GetContainerEvents(_ *runtime.GetEventsRequest, stream grpc.ServerStreamingServer[runtime.ContainerEventResponse]) error {
	events, cancel := s.containers.Subscribe()
	defer cancel()
	for {
		select {
		case <-stream.Context().Done():
			return nil
		case e, ok := <-events:
			if !ok {
				return fmt.Errorf("container event subscriber fell behind; subscribe again: %w", errdefs.ErrResourceExhausted)
			}
			if err := stream.Send(s.eventResponse(e)); err != nil {
				return err
			}
		}
	}
}

func (s *Server) eventResponse(e container.Event) *runtime.ContainerEventResponse {
	resp := &runtime.ContainerEventResponse{ContainerId: e.ContainerID, ContainerEventType: eventTypes[e.Type], CreatedAt: e.Time.UnixNano()}
	if sb, err := s.pods.Get(e.PodID); err == nil {
		resp.PodSandboxStatus = sandboxStatus(sb)
	}
	for _, c := range s.containers.List() {
		if c.PodID == e.PodID {
			resp.ContainersStatuses = append(resp.ContainersStatuses, containerStatus(c))
		}
	}
	return resp
}
