package integration

import (
	"os"
	"sync"
	"testing"

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

// images starts (once) a registry holding every test image (see fixture.PushAll).
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
	p, err := fixture.PushAll(reg, false)
	if err != nil {
		return ti, err
	}
	ti.BusyboxID, ti.ZstdID, ti.OCIID, ti.MultiLayerID, ti.WebID = p.BusyboxID, p.ZstdID, p.PlainID, p.MultiLayerID, p.WebID
	ti.Arm64ID = p.ZstdID
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
