package container

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	imagespec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// ImagePuller pulls an image that is not there yet.
type ImagePuller interface {
	EnsureImage(ctx context.Context, ref string) error
}

// InfraImage prepares pod infra processes that run from an image (the
// configurable pause image).
type InfraImage struct {
	Images Images
	Puller ImagePuller
}

// Rootfs pulls the image ref if it is missing and mounts its layers at
// bundle/rootfs. It returns the process's arguments and the undo.
func (x InfraImage) Rootfs(ctx context.Context, ref, bundle string) ([]string, func(), error) {
	if err := x.Puller.EnsureImage(ctx, ref); err != nil {
		return nil, nil, fmt.Errorf("pause image %s: %w", ref, err)
	}
	img, err := x.Images.Get(ref)
	if err != nil {
		return nil, nil, err
	}
	raw, err := x.Images.Config(img)
	if err != nil {
		return nil, nil, err
	}
	var ic imagespec.Image
	if err := json.Unmarshal(raw, &ic); err != nil {
		return nil, nil, err
	}
	args := append(append([]string(nil), ic.Config.Entrypoint...), ic.Config.Cmd...)
	if len(args) == 0 {
		return nil, nil, errdefs.InvalidArgument("pause image %s has no entrypoint or cmd", ref)
	}
	data := filepath.Join(bundle, "data")
	if err := makeRootfsDirs(bundle, data); err != nil {
		return nil, nil, err
	}
	if err := mountOverlay(x.Images.LayerDirs(img), data, filepath.Join(bundle, "rootfs")); err != nil {
		return nil, nil, err
	}
	return args, func() {
		unmountRootfs(filepath.Join(bundle, "rootfs"))
		os.RemoveAll(data)
	}, nil
}
