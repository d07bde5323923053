package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
)

// CheckpointPod checkpoints the given running containers of a pod, as one
// cut, into the caller's empty directory; they run on.
func (s *Server) CheckpointPod(ctx context.Context, req *runtime.CheckpointPodRequest) (*runtime.CheckpointPodResponse, error) {
	if err := requireField(req.GetPodSandboxId() != "", "pod_sandbox_id"); err != nil {
		return nil, err
	}
	if err := s.containers.CheckpointPod(ctx, req.GetPodSandboxId(), req.GetOutputPath(), req.GetContainerIds(), req.GetOptions()); err != nil {
		return nil, err
	}
	return &runtime.CheckpointPodResponse{}, nil
}

// RestorePod runs a new pod from the request's config and creates in it
// each container of a pod checkpoint (their starts restore them). On error
// nothing of it is left.
func (s *Server) RestorePod(ctx context.Context, req *runtime.RestorePodRequest) (_ *runtime.RestorePodResponse, err error) {
	pc, err := container.ReadPodCheckpoint(req.GetCheckpointPath(), req.GetOptions())
	if err != nil {
		return nil, err
	}
	if err := pc.Match(req.GetContainerConfigs()); err != nil {
		return nil, err
	}
	sb, err := s.pods.Run(ctx, req.GetConfig(), req.GetRuntimeHandler())
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.pods.Remove(context.WithoutCancel(ctx), sb.ID)
		}
	}()
	made, err := s.containers.RestoreContainers(ctx, sb.ID, pc, req.GetContainerConfigs())
	if err != nil {
		return nil, err
	}
	resp := &runtime.RestorePodResponse{PodSandboxId: sb.ID}
	for _, c := range made {
		resp.RestoredContainers = append(resp.RestoredContainers, &runtime.RestoredContainer{
			Name: c.Config().GetMetadata().GetName(), ContainerId: c.ID})
	}
	return resp, nil
}
