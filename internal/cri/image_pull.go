package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/image"
)

// PullImage pulls an image, with the request's credentials if any.
func (s *Server) PullImage(ctx context.Context, req *runtime.PullImageRequest) (*runtime.PullImageResponse, error) {
	ref, err := image.ParseReference(imageRef(req.GetImage()))
	if err != nil {
		return nil, err
	}
	rec, err := s.images.Pull(ctx, ref, toCredentials(req.GetAuth()))
	if err != nil {
		return nil, err
	}
	return &runtime.PullImageResponse{ImageRef: rec.ID.String()}, nil
}

func toCredentials(a *runtime.AuthConfig) *image.Credentials {
	if a == nil {
		return nil
	}
	return &image.Credentials{
		Username: a.Username, Password: a.Password, Auth: a.Auth,
		IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
	}
}
