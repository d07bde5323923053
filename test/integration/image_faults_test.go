package integration

import (
	"archive/tar"
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"golang.org/x/sys/unix"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

// assertEmptyStore fails unless berthd holds no image, blob, layer or temp file.
func assertEmptyStore(t *testing.T, b *berthd) {
	t.Helper()
	list, err := b.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{})
	if err != nil || len(list.Images) != 0 {
		t.Fatalf("images visible after a failed pull: %v %v", list, err)
	}
	if blobs, layers := b.storedFiles(); layers != 0 || blobs != 0 {
		t.Fatalf("failed pull left %d blobs and %d layers", blobs, layers)
	}
	if tmp := b.tempFiles(); len(tmp) != 0 {
		t.Fatalf("failed pull left temp files %v", tmp)
	}
}

func TestPullCutMidwayLeavesNothing(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "")
	proxy.SetFault(fixture.Fault{CutAfter: 64 << 10})
	_, err := pull(t, b, proxy.Addr+"/multilayer:latest", nil)
	if err == nil {
		t.Fatal("pull through a cut connection succeeded")
	}
	assertEmptyStore(t, b)
	// Once the network is healthy the same pull works.
	proxy.SetFault(fixture.Fault{})
	if id, err := pull(t, b, proxy.Addr+"/multilayer:latest", nil); err != nil || id != ti.MultiLayerID {
		t.Fatalf("retry: %s %v", id, err)
	}
}

func TestPullCancelledMidwayLeavesNothing(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var once sync.Once
	proxy.SetFault(fixture.Fault{OnBlob: func() {
		once.Do(cancel)
		time.Sleep(200 * time.Millisecond) // keep the body open while the cancel lands
	}})
	_, err := b.Images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: proxy.Addr + "/multilayer:latest"}})
	if status.Code(err) != codes.Canceled {
		t.Fatalf("want Canceled, got %v", err)
	}
	// The server side unwinds asynchronously after the client goes away.
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, layers := b.storedFiles()
		if layers == 0 && len(b.tempFiles()) == 0 {
			break
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	assertEmptyStore(t, b)
}

func TestPullDigestMismatchStoresNothing(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "")
	proxy.SetFault(fixture.Fault{Corrupt: true})
	_, err := pull(t, b, proxy.Addr+"/busybox:latest", nil)
	if err == nil {
		t.Fatal("pull of corrupted blobs succeeded")
	}
	assertEmptyStore(t, b)
}

func TestPullBadInput(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	cases := []struct {
		ref      string
		code     codes.Code
		contains string
	}{
		{"", codes.InvalidArgument, "empty"},
		{"Bad//Ref", codes.InvalidArgument, "Bad//Ref"},
		{"busybox@sha256:short", codes.InvalidArgument, "digest"},
		{ti.Ref("nosuchimage:latest"), codes.NotFound, ti.Addr()},
		{ti.Ref("busybox:nosuchtag"), codes.NotFound, ti.Addr()},
		{"127.0.0.1:1/busybox:latest", codes.Unavailable, "127.0.0.1:1"},
	}
	for _, c := range cases {
		_, err := pull(t, b, c.ref, nil)
		if status.Code(err) != c.code || !strings.Contains(status.Convert(err).Message(), c.contains) {
			t.Errorf("pull %q: want %v mentioning %q, got %v", c.ref, c.code, c.contains, err)
		}
	}
	// Status of an unknown image is an empty answer; removing it succeeds.
	if img := imageStatus(t, b, ti.Ref("nosuchimage:latest")); img != nil {
		t.Errorf("status of unknown image: %+v", img)
	}
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: "nosuch"}}); err != nil {
		t.Errorf("remove of unknown image: %v", err)
	}
	for name, call := range map[string]func() error{
		"ImageStatus(nil)": func() error {
			_, err := b.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{})
			return err
		},
		"RemoveImage(nil)": func() error {
			_, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{})
			return err
		},
		"PullImage(nil)": func() error {
			_, err := b.Images.PullImage(ctxT(t), &runtime.PullImageRequest{})
			return err
		},
	} {
		if err := call(); status.Code(err) != codes.InvalidArgument {
			t.Errorf("%s: want InvalidArgument, got %v", name, err)
		}
	}
	assertEmptyStore(t, b)
}

// TestPullFailuresHaveTheirOwnCodes (root: berthd): each way a pull can
// fail answers with its own code and names the layer or registry: a
// connection reset twice is retried and the pull succeeds; one that
// stalls is cut after image.pull_progress_timeout (Unavailable); a
// corrupt blob is DataLoss; a manifest that is not JSON is DataLoss; a
// full disk is ResourceExhausted. Nothing is left after any failure.
func TestPullFailuresHaveTheirOwnCodes(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "[image]\npull_progress_timeout = \"1s\"\n")
	ref := proxy.Addr + "/multilayer:latest"

	proxy.SetFault(fixture.Fault{CutAfter: 100, CutFirst: 2})
	if id, err := pull(t, b, ref, nil); err != nil || id != ti.MultiLayerID {
		t.Fatalf("pull through a connection reset twice: %s %v", id, err)
	}
	retried := false
	for _, n := range proxy.BlobGets() {
		retried = retried || n >= 2
	}
	if !retried {
		t.Fatalf("no blob was fetched again: %v", proxy.BlobGets())
	}
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}}); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	proxy.SetFault(fixture.Fault{StallAfter: 100})
	_, err := pull(t, b, ref, nil)
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "pull_progress_timeout") || !strings.Contains(err.Error(), "sha256:") {
		t.Fatalf("stalled pull: %v", err)
	}
	if took := time.Since(start); took > 30*time.Second {
		t.Fatalf("the stalled pull took %v", took)
	}
	assertEmptyStore(t, b)

	proxy.SetFault(fixture.Fault{Corrupt: true})
	_, err = pull(t, b, ref, nil)
	if status.Code(err) != codes.DataLoss || !strings.Contains(err.Error(), "sha256:") {
		t.Fatalf("corrupt blob: %v", err)
	}
	assertEmptyStore(t, b)

	proxy.SetFault(fixture.Fault{GarbageManifest: true})
	_, err = pull(t, b, ref, nil)
	if status.Code(err) != codes.DataLoss || !strings.Contains(err.Error(), proxy.Addr) {
		t.Fatalf("garbage manifest: %v", err)
	}
	assertEmptyStore(t, b)
	proxy.SetFault(fixture.Fault{})

	// A full disk: the layer store on a tmpfs too small for the image.
	layers := filepath.Join(b.Root, "images", "layers")
	if err := unix.Mount("tmpfs", layers, "tmpfs", 0, "size=256k,mode=0700"); err != nil {
		t.Fatal(err)
	}
	defer unix.Unmount(layers, unix.MNT_DETACH)
	_, err = pull(t, b, ti.Ref("busybox:latest"), nil)
	if status.Code(err) != codes.ResourceExhausted || !strings.Contains(err.Error(), "sha256:") {
		t.Fatalf("pull onto a full disk: %v", err)
	}
	assertEmptyStore(t, b)
}

// TestPullLayerContentProblems (root: berthd): layers served whole by the
// registry but with awkward content. A GNU sparse file is unpacked with its
// data (it used to vanish); a tar whose header claims more than it holds
// is DataLoss naming the layer; an entry that would leave the layer is
// InvalidArgument naming it. Nothing is left after a failure.
func TestPullLayerContentProblems(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	// The sparse file, archived by GNU tar as a GNU sparse entry.
	src := t.TempDir()
	f, _ := os.Create(filepath.Join(src, "sparse"))
	f.WriteAt([]byte("head"), 0)
	f.WriteAt([]byte("tail"), 8<<20)
	f.Close()
	archive := filepath.Join(t.TempDir(), "sparse.tar")
	if out, err := exec.Command("tar", "--sparse", "--format=gnu", "-C", src, "-cf", archive, "sparse").CombinedOutput(); err != nil {
		t.Fatalf("tar: %v %s", err, out)
	}
	sparseTar, _ := os.ReadFile(archive)
	busybox, err := fixture.BusyboxLayer()
	if err != nil {
		t.Fatal(err)
	}
	push := func(repoTag string, layerTars ...[]byte) string {
		var layers []v1.Layer
		for _, data := range layerTars {
			l, err := fixture.Layer(data, fixture.Gzip)
			if err != nil {
				t.Fatal(err)
			}
			layers = append(layers, l)
		}
		img, err := fixture.Image(v1.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}}, false, layers...)
		if err != nil {
			t.Fatal(err)
		}
		if err := ti.reg.Push(repoTag, img); err != nil {
			t.Fatal(err)
		}
		return ti.Ref(repoTag)
	}
	sparseRef := push("sparse:1", busybox, sparseTar)
	img := mustPull(t, b, sparseRef)
	pod := podConfig(t, "sparse")
	podID := runPod(t, b, pod)
	id := runContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "100"))
	if out := execOut(t, b, id, "sh", "-c", "wc -c < /sparse; head -c 4 /sparse; tail -c 4 /sparse"); out != "8388612\nheadtail" {
		t.Fatalf("the sparse file in the container: %q", out)
	}
	if _, err := b.RT.RemovePodSandbox(ctxT(t), &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: sparseRef}}); err != nil {
		t.Fatal(err)
	}

	var truncated bytes.Buffer
	tw := tar.NewWriter(&truncated)
	tw.WriteHeader(&tar.Header{Name: "big", Typeflag: tar.TypeReg, Mode: 0o644, Size: 1 << 20})
	tw.Write(make([]byte, 1000))
	_, err = pull(t, b, push("truncated:1", truncated.Bytes()), nil)
	if status.Code(err) != codes.DataLoss || !strings.Contains(err.Error(), "layer sha256:") {
		t.Fatalf("truncated layer: %v", err)
	}
	assertEmptyStore(t, b)

	escape := fixture.Tar(fixture.File("../escape", "x"))
	_, err = pull(t, b, push("escape:1", escape), nil)
	if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), "../escape") {
		t.Fatalf("escaping entry: %v", err)
	}
	assertEmptyStore(t, b)
}
