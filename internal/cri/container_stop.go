package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// StopContainer stops a container: its stop signal, then SIGKILL after
// the timeout (seconds).
func (s *Server) StopContainer(ctx context.Context, req *runtime.StopContainerRequest) (*runtime.StopContainerResponse, error) {
	timeout := time.Duration(req.GetTimeout()) * time.Second
	if err := s.containers.Stop(ctx, req.GetContainerId(), timeout); err != nil {
		return nil, err
	}
	return &runtime.StopContainerResponse{}, nil
}
