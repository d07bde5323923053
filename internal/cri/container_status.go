package cri

import (
	"context"
	"encoding/json"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
)

// ContainerStatus reports a container; verbose adds berth's record as JSON.
func (s *Server) ContainerStatus(_ context.Context, req *runtime.ContainerStatusRequest) (*runtime.ContainerStatusResponse, error) {
	c, err := s.containers.Get(req.GetContainerId())
	if err != nil {
		return nil, err
	}
	resp := &runtime.ContainerStatusResponse{Status: containerStatus(c)}
	if req.GetVerbose() {
		pid := 0 // an exited container's pid may be another process's by now
		if c.State == container.StateRunning {
			pid = c.Pid
		}
		info, err := json.Marshal(map[string]any{
			"id": c.ID, "sandboxID": c.PodID, "pid": pid, "runtimeHandler": c.Handler, "bundle": c.Bundle,
			"cgroup": c.Cgroup, "config": c.Config(), "restartCount": c.RestartCount, "stopRequested": c.StopRequested,
		})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

func containerState(c *container.Container) runtime.ContainerState {
	switch c.State {
	case container.StateCreated:
		return runtime.ContainerState_CONTAINER_CREATED
	case container.StateRunning:
		return runtime.ContainerState_CONTAINER_RUNNING
	case container.StateExited:
		return runtime.ContainerState_CONTAINER_EXITED
	}
	return runtime.ContainerState_CONTAINER_UNKNOWN
}

func unixNanos(c *container.Container) (created, started, finished int64) {
	created = c.CreatedAt.UnixNano()
	if !c.StartedAt.IsZero() {
		started = c.StartedAt.UnixNano()
	}
	if !c.FinishedAt.IsZero() {
		finished = c.FinishedAt.UnixNano()
	}
	return
}

func containerStatus(c *container.Container) *runtime.ContainerStatus {
	cfg := c.Config()
	created, started, finished := unixNanos(c)
	return &runtime.ContainerStatus{
		Id: c.ID, Metadata: cfg.GetMetadata(), State: containerState(c),
		CreatedAt: created, StartedAt: started, FinishedAt: finished,
		ExitCode: c.ExitCode, Reason: c.Reason, Message: c.Message,
		Image: &runtime.ImageSpec{Image: c.ImageName, UserSpecifiedImage: cfg.GetImage().GetUserSpecifiedImage()}, ImageRef: c.ImageRef, ImageId: c.ImageID,
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), Mounts: cfg.GetMounts(), LogPath: c.LogPath,
		Resources:  &runtime.ContainerResources{Linux: cfg.GetLinux().GetResources()},
		User:       containerUser(c.User),
		StopSignal: c.StopSignalCRI(),
	}
}

func containerUser(u *container.User) *runtime.ContainerUser {
	if u == nil {
		return nil
	}
	lu := &runtime.LinuxContainerUser{Uid: int64(u.UID), Gid: int64(u.GID)}
	for _, g := range u.Groups {
		lu.SupplementalGroups = append(lu.SupplementalGroups, int64(g))
	}
	return &runtime.ContainerUser{Linux: lu}
}
