package integration

import (
	"os"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

// BenchmarkPull measures pull + unpack of big:latest (~100 MB in 5 layers
// of incompressible data, plus busybox) from a registry on 127.0.0.1, cold:
// the image is removed between iterations. MB/s is of compressed bytes.
//
//	make bench-pull
func BenchmarkPull(b *testing.B) {
	requireRoot(b)
	dir, err := os.MkdirTemp("", "berth-bench-registry-")
	if err != nil {
		b.Fatal(err)
	}
	defer os.RemoveAll(dir)
	reg, err := fixture.StartRegistry(dir, fixture.RegistryOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer reg.Stop()
	img, err := fixture.Big(100, 5)
	if err != nil {
		b.Fatal(err)
	}
	if err := reg.Push("big:latest", img); err != nil {
		b.Fatal(err)
	}
	size, err := img.Size()
	if err != nil {
		b.Fatal(err)
	}
	layers, _ := img.Layers()
	for _, l := range layers {
		n, _ := l.Size()
		size += n
	}
	d := startBerthd(b, "")
	ref := reg.Ref("big:latest")
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := pull(b, d, ref, nil); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if _, err := d.Images.RemoveImage(ctxT(b), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}
