package cri

import (
	"context"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ListPodSandbox lists pods, filtered by ID prefix, state and labels.
func (s *Server) ListPodSandbox(_ context.Context, req *runtime.ListPodSandboxRequest) (*runtime.ListPodSandboxResponse, error) {
	f := req.GetFilter()
	key, gen := filterKey("pods", f), s.pods.Generation()
	if cached, ok := s.lists.get(key, gen); ok {
		return cached.(*runtime.ListPodSandboxResponse), nil
	}
	out := []*runtime.PodSandbox{}
	for _, sb := range s.pods.List() {
		cfg := sb.Config()
		if f.GetId() != "" && !strings.HasPrefix(sb.ID, f.GetId()) {
			continue
		}
		if f.GetState() != nil && f.GetState().GetState() != sandboxState(sb) {
			continue
		}
		if !labelsMatch(cfg.GetLabels(), f.GetLabelSelector()) {
			continue
		}
		out = append(out, &runtime.PodSandbox{
			Id: sb.ID, Metadata: cfg.GetMetadata(), State: sandboxState(sb), CreatedAt: sb.CreatedAt.UnixNano(),
			Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), RuntimeHandler: sb.Handler,
		})
	}
	resp := &runtime.ListPodSandboxResponse{Items: out}
	s.lists.put(key, gen, resp)
	return resp, nil
}

func labelsMatch(labels, selector map[string]string) bool {
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}
