package integration

import (
	"os"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

// testImages is the shared registry with the project's test images.
type testImages struct {
	reg *fixture.Registry
	dir string
	// Expected image IDs (config digests) of what was pushed.
	BusyboxID, MultiLayerID, WebID, ZstdID, OCIID, Arm64ID string
}

var (
	sharedOnce sync.Once
	shared     *testImages
	sharedErr  error
)

// images starts (once) a registry holding every test image:
//
//	busybox:latest     gzip, Docker schema 2 (also as library/busybox:latest)
//	busybox:zstd       zstd layer, OCI
//	busybox:plain      uncompressed layer, OCI
//	multilayer:latest  whiteouts and an opaque directory
//	web:latest         busybox httpd
//	multiarch:latest   an index: busybox for amd64, busybox:zstd for arm64
func images(t testing.TB) *testImages {
	t.Helper()
	requireRoot(t)
	sharedOnce.Do(func() { shared, sharedErr = pushTestImages() })
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return shared
}

func pushTestImages() (*testImages, error) {
	dir, err := os.MkdirTemp("", "berth-registry-")
	if err != nil {
		return nil, err
	}
	reg, err := fixture.StartRegistry(dir, fixture.RegistryOptions{})
	if err != nil {
		return nil, err
	}
	ti := &testImages{reg: reg, dir: dir}
	push := func(tag string, build func() (v1.Image, error), id *string) error {
		img, err := build()
		if err != nil {
			return err
		}
		if err := reg.Push(tag, img); err != nil {
			return err
		}
		if id != nil {
			name, err := img.ConfigName()
			if err != nil {
				return err
			}
			*id = name.String()
		}
		return nil
	}
	var zstdImg v1.Image
	steps := []error{
		push("busybox:latest", func() (v1.Image, error) { return fixture.Busybox(fixture.Gzip, false) }, &ti.BusyboxID),
		push("library/busybox:latest", func() (v1.Image, error) { return fixture.Busybox(fixture.Gzip, false) }, nil),
		push("busybox:zstd", func() (v1.Image, error) {
			img, err := fixture.Busybox(fixture.Zstd, true)
			zstdImg = img
			return img, err
		}, &ti.ZstdID),
		push("busybox:plain", func() (v1.Image, error) { return fixture.Busybox(fixture.Uncompressed, true) }, &ti.OCIID),
		push("multilayer:latest", fixture.MultiLayer, &ti.MultiLayerID),
		push("web:latest", fixture.Web, &ti.WebID),
	}
	for _, err := range steps {
		if err != nil {
			return ti, err
		}
	}
	amd, err := fixture.Busybox(fixture.Gzip, false)
	if err != nil {
		return ti, err
	}
	if err := reg.PushIndex("multiarch:latest", fixture.MultiArch(amd, zstdImg)); err != nil {
		return ti, err
	}
	ti.Arm64ID = ti.ZstdID
	return ti, nil
}

// Ref names repoTag on the shared registry.
func (ti *testImages) Ref(repoTag string) string { return ti.reg.Ref(repoTag) }

// Addr is the shared registry's host:port.
func (ti *testImages) Addr() string { return ti.reg.Addr }

func stopSharedRegistry() {
	if shared != nil {
		shared.reg.Stop()
		os.RemoveAll(shared.dir)
	}
}
