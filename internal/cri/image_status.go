package cri

import (
	"context"
	"encoding/json"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// ImageStatus returns an image, or no image (and no error) when it is
// absent, as the CRI asks. Verbose adds the image config as JSON.
func (s *Server) ImageStatus(_ context.Context, req *runtime.ImageStatusRequest) (*runtime.ImageStatusResponse, error) {
	ref := imageRef(req.GetImage())
	if err := requireField(ref != "", "image.image"); err != nil {
		return nil, err
	}
	rec, err := s.images.Get(ref)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return &runtime.ImageStatusResponse{}, nil
	}
	if err != nil {
		return nil, err
	}
	resp := &runtime.ImageStatusResponse{Image: toCRIImage(rec)}
	if req.GetVerbose() {
		cfg, err := s.images.Config(rec)
		if err != nil {
			return nil, err
		}
		info, err := json.Marshal(map[string]any{
			"id":        rec.ID,
			"manifest":  rec.Manifest,
			"layers":    rec.Layers,
			"imageSpec": json.RawMessage(cfg),
		})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}
