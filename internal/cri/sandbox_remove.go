package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/stats"
)

// RemovePodSandbox removes the pod and its containers.
func (s *Server) RemovePodSandbox(ctx context.Context, req *runtime.RemovePodSandboxRequest) (*runtime.RemovePodSandboxResponse, error) {
	if err := requireField(req.GetPodSandboxId() != "", "pod_sandbox_id"); err != nil {
		return nil, err
	}
	if err := s.pods.Remove(ctx, req.GetPodSandboxId()); err != nil {
		return nil, err
	}
	s.stats.Forget(stats.PodKey(req.GetPodSandboxId()))
	return &runtime.RemovePodSandboxResponse{}, nil
}
