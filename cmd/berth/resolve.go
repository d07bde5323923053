package main

import (
	"fmt"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// resolveImage turns what a user typed (a reference, a full ID or a unique
// ID prefix) into an image ID.
func (c *client) resolveImage(spec string) (string, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	st, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: spec}})
	if err == nil && st.Image != nil {
		return st.Image.Id, nil
	}
	list, lerr := c.Images.ListImages(ctx, &runtime.ListImagesRequest{})
	if lerr != nil {
		return "", c.explain(lerr)
	}
	prefix := strings.TrimPrefix(spec, "sha256:")
	var matches []string
	for _, img := range list.Images {
		if strings.HasPrefix(strings.TrimPrefix(img.Id, "sha256:"), prefix) {
			matches = append(matches, img.Id)
		}
	}
	switch {
	case len(matches) == 1 && len(prefix) >= 3:
		return matches[0], nil
	case len(matches) > 1 && len(prefix) >= 3:
		return "", fmt.Errorf("image ID prefix %q is ambiguous: %d images match", spec, len(matches))
	case err != nil:
		return "", c.explain(err)
	}
	return "", fmt.Errorf("no such image: %s", spec)
}
