package integration

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

func TestPullThroughMirror(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	// A dead mirror first: berth must fall through to the live one.
	b := startBerthd(t, fmt.Sprintf(`
[[registry.hosts]]
host = "docker.io"
mirrors = ["http://127.0.0.1:1", "http://%s"]
mirrors_only = true
`, proxy.Addr))
	id := mustPull(t, b, "busybox")
	if id != ti.BusyboxID {
		t.Fatalf("got %s, want %s", id, ti.BusyboxID)
	}
	img := imageStatus(t, b, "docker.io/library/busybox:latest")
	if img == nil || img.RepoTags[0] != "docker.io/library/busybox:latest" {
		t.Fatalf("short name not normalised: %+v", img)
	}
	if !strings.HasPrefix(img.RepoDigests[0], "docker.io/library/busybox@sha256:") {
		t.Fatalf("repo digest %v", img.RepoDigests)
	}
	if len(proxy.BlobGets()) == 0 {
		t.Fatal("the mirror was not used")
	}
	if imageStatus(t, b, "busybox:latest") == nil {
		t.Fatal("short name lookup failed")
	}
}

// TestMirrorsOnlyNeverFallsThrough: with mirrors_only, an image that no
// mirror has fails NotFound from the mirror, and berth never turns to the
// registry itself (no DNS lookup of index.docker.io from a test).
func TestMirrorsOnlyNeverFallsThrough(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, fmt.Sprintf(`
[[registry.hosts]]
host = "docker.io"
mirrors = ["http://127.0.0.1:1", "http://%s"]
mirrors_only = true
`, ti.Addr()))
	if id := mustPull(t, b, "busybox"); id != ti.BusyboxID {
		t.Fatalf("got %s, want %s", id, ti.BusyboxID)
	}
	_, err := pull(t, b, "docker.io/library/nothere:1", nil)
	if status.Code(err) != codes.NotFound || !strings.Contains(err.Error(), ti.Addr()) {
		t.Fatalf("pull of an image no mirror has: %v", err)
	}
	if strings.Contains(b.Log(), "index.docker.io") || strings.Contains(err.Error(), "index.docker.io") {
		t.Fatalf("berth turned to the registry itself:\n%s", b.Log())
	}
}

func TestPullWithAuth(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	reg, err := fixture.StartRegistry(dir, fixture.RegistryOptions{Username: "kube", Password: "s3cret"})
	if err != nil {
		t.Fatal(err)
	}
	defer reg.Stop()
	img, err := fixture.Busybox(fixture.Gzip, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Push("private/busybox:latest", img); err != nil {
		t.Fatal(err)
	}
	ref := reg.Ref("private/busybox:latest")
	authFile := filepath.Join(dir, "config.json")
	b := startBerthd(t, fmt.Sprintf("[image]\nauth_file = %q\n", authFile))

	for name, auth := range map[string]*runtime.AuthConfig{
		"none":           nil,
		"wrong password": {Username: "kube", Password: "nope"},
	} {
		_, err := pull(t, b, ref, auth)
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), reg.Addr) {
			t.Errorf("%s: want Unauthenticated naming %s, got %v", name, reg.Addr, err)
		}
	}
	if _, err := pull(t, b, ref, &runtime.AuthConfig{Username: "kube", Password: "s3cret"}); err != nil {
		t.Fatalf("username/password: %v", err)
	}
	b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	basic := base64.StdEncoding.EncodeToString([]byte("kube:s3cret"))
	if _, err := pull(t, b, ref, &runtime.AuthConfig{Auth: basic}); err != nil {
		t.Fatalf("auth field: %v", err)
	}
	b.Images.RemoveImage(ctxT(t), &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}})
	// With no credentials in the request, the auth file's entry is used.
	os.WriteFile(authFile, []byte(fmt.Sprintf(`{"auths":{%q:{"auth":%q}}}`, reg.Addr, basic)), 0o600)
	if _, err := pull(t, b, ref, nil); err != nil {
		t.Fatalf("auth file: %v", err)
	}
}
