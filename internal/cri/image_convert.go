package cri

import (
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/image"
)

// toCRIImage converts an image record to its CRI form.
func toCRIImage(r *image.Record) *runtime.Image {
	img := &runtime.Image{
		Id:          r.ID.String(),
		RepoTags:    r.RepoTags,
		RepoDigests: r.RepoDigests,
		Size:        r.Size,
		Spec:        &runtime.ImageSpec{Image: r.ID.String()},
		Pinned:      r.Pinned,
	}
	if uid, name, ok := r.UID(); ok {
		img.Uid = &runtime.Int64Value{Value: uid}
	} else {
		img.Username = name
	}
	return img
}

// imageRef returns the image a spec names, or "" when the spec is empty.
func imageRef(spec *runtime.ImageSpec) string {
	if spec == nil {
		return ""
	}
	return spec.Image
}
