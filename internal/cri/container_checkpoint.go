package cri

import (
	"context"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CheckpointContainer writes a checkpoint archive of a running container
// to the request's location (CRI-O's layout); the container runs on. A
// CreateContainer whose image is that archive's path restores it.
func (s *Server) CheckpointContainer(ctx context.Context, req *runtime.CheckpointContainerRequest) (*runtime.CheckpointContainerResponse, error) {
	timeout := time.Duration(req.GetTimeout()) * time.Second
	if err := s.containers.Checkpoint(ctx, req.GetContainerId(), req.GetLocation(), timeout); err != nil {
		return nil, err
	}
	return &runtime.CheckpointContainerResponse{}, nil
}
