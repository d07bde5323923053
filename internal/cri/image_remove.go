package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// RemoveImage removes an image and every reference to it. Removing an
// image that is already gone succeeds.
func (s *Server) RemoveImage(_ context.Context, req *runtime.RemoveImageRequest) (*runtime.RemoveImageResponse, error) {
	ref := imageRef(req.GetImage())
	if err := requireField(ref != "", "image.image"); err != nil {
		return nil, err
	}
	if err := s.images.Remove(ref); err != nil {
		return nil, err
	}
	return &runtime.RemoveImageResponse{}, nil
}
