package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemoveContainer removes a container, killing it if it runs.
func (s *Server) RemoveContainer(ctx context.Context, req *runtime.RemoveContainerRequest) (*runtime.RemoveContainerResponse, error) {
	if err := requireField(req.GetContainerId() != "", "container_id"); err != nil {
		return nil, err
	}
	if err := s.containers.Remove(ctx, req.GetContainerId()); err != nil {
		return nil, err
	}
	s.stats.Forget(req.GetContainerId())
	return &runtime.RemoveContainerResponse{}, nil
}
