package cri

import (
	"context"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListContainers lists containers, filtered by ID prefix, state, pod and labels.
func (s *Server) ListContainers(_ context.Context, req *runtime.ListContainersRequest) (*runtime.ListContainersResponse, error) {
	f := req.GetFilter()
	key, gen := filterKey("containers", f), s.containers.Generation()
	if cached, ok := s.lists.get(key, gen); ok {
		return cached.(*runtime.ListContainersResponse), nil
	}
	out := []*runtime.Container{}
	for _, c := range s.containers.List() {
		cfg := c.Config()
		switch {
		case f.GetId() != "" && !strings.HasPrefix(c.ID, f.GetId()),
			f.GetPodSandboxId() != "" && !strings.HasPrefix(c.PodID, f.GetPodSandboxId()),
			f.GetState() != nil && f.GetState().GetState() != containerState(c),
			!labelsMatch(cfg.GetLabels(), f.GetLabelSelector()):
			continue
		}
		out = append(out, &runtime.Container{
			Id: c.ID, PodSandboxId: c.PodID, Metadata: cfg.GetMetadata(), State: containerState(c),
			Image: &runtime.ImageSpec{Image: c.ImageName}, ImageRef: c.ImageRef, ImageId: c.ImageID,
			CreatedAt: c.CreatedAt.UnixNano(), Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(),
		})
	}
	resp := &runtime.ListContainersResponse{Containers: out}
	s.lists.put(key, gen, resp)
	return resp, nil
}
