package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// ListImages lists images, optionally only the one a filter names.
func (s *Server) ListImages(_ context.Context, req *runtime.ListImagesRequest) (*runtime.ListImagesResponse, error) {
	images, err := s.filterImages(req.GetFilter())
	if err != nil {
		return nil, err
	}
	return &runtime.ListImagesResponse{Images: images}, nil
}

func (s *Server) filterImages(f *runtime.ImageFilter) ([]*runtime.Image, error) {
	if want := imageRef(f.GetImage()); want != "" {
		rec, err := s.images.Get(want)
		if errdefs.Is(err, errdefs.ErrNotFound) {
			return []*runtime.Image{}, nil // a filter matching nothing is an empty list
		}
		if err != nil {
			return nil, err
		}
		return []*runtime.Image{toCRIImage(rec)}, nil
	}
	records := s.images.List()
	out := make([]*runtime.Image, len(records))
	for i, r := range records {
		out[i] = toCRIImage(r)
	}
	return out, nil
}
