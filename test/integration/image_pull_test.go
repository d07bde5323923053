package integration

import (
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestPullByTagListStatusRemove(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	ref := ti.Ref("busybox:latest")
	id := mustPull(t, b, ref)
	if id != ti.BusyboxID {
		t.Fatalf("image ref %s, want config digest %s", id, ti.BusyboxID)
	}
	img := imageStatus(t, b, ref)
	if img == nil || img.Id != id || len(img.RepoTags) != 1 || img.RepoTags[0] != ref {
		t.Fatalf("status %+v", img)
	}
	if len(img.RepoDigests) != 1 || !strings.HasPrefix(img.RepoDigests[0], ti.Addr()+"/busybox@sha256:") {
		t.Fatalf("repo digests %v", img.RepoDigests)
	}
	if img.Size == 0 || img.Uid == nil || img.Uid.Value != 0 {
		t.Fatalf("size/uid: %+v", img)
	}
	list, err := b.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{})
	if err != nil || len(list.Images) != 1 || list.Images[0].Id != id {
		t.Fatalf("list %v %v", list, err)
	}
	// Filter by reference, and by one that matches nothing.
	list, err = b.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{Filter: &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: ref}}})
	if err != nil || len(list.Images) != 1 {
		t.Fatalf("filtered list %v %v", list, err)
	}
	list, err = b.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{Filter: &runtime.ImageFilter{Image: &runtime.ImageSpec{Image: ti.Ref("nothere:1")}}})
	if err != nil || len(list.Images) != 0 {
		t.Fatalf("non-matching filter %v %v", list, err)
	}
	// Verbose status carries the OCI image config.
	vs, err := b.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: id}, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		ImageSpec struct {
			Config struct{ Cmd []string } `json:"config"`
		} `json:"imageSpec"`
	}
	if err := json.Unmarshal([]byte(vs.Info["info"]), &info); err != nil || len(info.ImageSpec.Config.Cmd) != 1 || info.ImageSpec.Config.Cmd[0] != "sh" {
		t.Fatalf("verbose info %q: %v", vs.Info["info"], err)
	}
	// Status by image ID, by bare hex ID and by repo digest all find it.
	for _, spec := range []string{id, strings.TrimPrefix(id, "sha256:"), img.RepoDigests[0]} {
		if got := imageStatus(t, b, spec); got == nil || got.Id != id {
			t.Errorf("status by %s: %+v", spec, got)
		}
	}
	if blobs, layers := b.storedFiles(); blobs != 3 || layers != 1 {
		t.Fatalf("stored %d blobs and %d layers, want 3 and 1", blobs, layers)
	}
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
		t.Fatal(err)
	}
	if got := imageStatus(t, b, id); got != nil {
		t.Fatalf("image still there after remove: %+v", got)
	}
	if blobs, layers := b.storedFiles(); blobs != 0 || layers != 0 {
		t.Fatalf("remove left %d blobs and %d layers", blobs, layers)
	}
	// Removing again is not an error.
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
		t.Fatalf("second remove: %v", err)
	}
}

func TestPullByDigestAndSharedLayers(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	id := mustPull(t, b, ti.Ref("busybox:latest"))
	digestRef := imageStatus(t, b, id).RepoDigests[0]
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: id}}); err != nil {
		t.Fatal(err)
	}
	if got := mustPull(t, b, digestRef); got != id {
		t.Fatalf("pull by digest gave %s, want %s", got, id)
	}
	img := imageStatus(t, b, digestRef)
	if len(img.RepoTags) != 0 || len(img.RepoDigests) != 1 || img.RepoDigests[0] != digestRef {
		t.Fatalf("pulled by digest: %+v", img)
	}
	// multilayer shares busybox's bottom layer: removing busybox keeps it.
	multi := mustPull(t, b, ti.Ref("multilayer:latest"))
	_, layers := b.storedFiles()
	if layers != 3 {
		t.Fatalf("%d layers, want 3 (one shared)", layers)
	}
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: id}}); err != nil {
		t.Fatal(err)
	}
	if _, layers := b.storedFiles(); layers != 3 {
		t.Fatalf("removing busybox freed a layer multilayer still uses: %d left", layers)
	}
	if imageStatus(t, b, multi) == nil {
		t.Fatal("multilayer image lost")
	}
}

func TestPullFormatsAndPlatforms(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	cases := map[string]string{
		"busybox:zstd":      ti.ZstdID,    // zstd layer, OCI manifest
		"busybox:plain":     ti.OCIID,     // uncompressed layer, OCI manifest
		"multiarch:latest":  ti.BusyboxID, // index resolved to linux/amd64
		"multilayer:latest": ti.MultiLayerID,
	}
	for tag, want := range cases {
		if got := mustPull(t, b, ti.Ref(tag)); got != want {
			t.Errorf("%s: got %s, want %s", tag, got, want)
		}
	}
	// The repo digest of an index is the index's digest, as docker reports it.
	img := imageStatus(t, b, ti.Ref("multiarch:latest"))
	idx := headDigest(t, ti.Ref("multiarch:latest"))
	found := false
	for _, d := range img.RepoDigests {
		found = found || d == fmt.Sprintf("%s/multiarch@%s", ti.Addr(), idx)
	}
	if !found {
		t.Fatalf("repo digests %v lack the index digest %s", img.RepoDigests, idx)
	}
}

func TestConcurrentPullsShareOneDownload(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "")
	ref := proxy.Addr + "/multilayer:latest"
	var wg sync.WaitGroup
	ids := make([]string, 8)
	errs := make([]error, 8)
	for i := range ids {
		wg.Add(1)
		go func() { defer wg.Done(); ids[i], errs[i] = pull(t, b, ref, nil) }()
	}
	wg.Wait()
	for i := range ids {
		if errs[i] != nil || ids[i] != ti.MultiLayerID {
			t.Fatalf("pull %d: %s %v", i, ids[i], errs[i])
		}
	}
	for blob, n := range proxy.BlobGets() {
		if n != 1 {
			t.Errorf("blob %s fetched %d times by 8 concurrent pulls, want 1", blob, n)
		}
	}
	if len(proxy.BlobGets()) != 4 { // the config and three layers
		t.Errorf("blob fetches: %v", proxy.BlobGets())
	}
}
