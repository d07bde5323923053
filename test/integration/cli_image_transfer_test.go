package integration

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// imageIDs lists berthd's images as "ID tag,tag" lines, sorted.
func imageIDs(t *testing.T, b *berthd) []string {
	t.Helper()
	resp, err := b.Images.ListImages(ctxT(t), &runtime.ListImagesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, img := range resp.Images {
		tags := append([]string(nil), img.RepoTags...)
		sort.Strings(tags)
		out = append(out, img.Id+" "+strings.Join(tags, ","))
	}
	sort.Strings(out)
	return out
}

// tarNames lists the entries of a tar file.
func tarNames(t *testing.T, file string) map[string]bool {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names
		}
		if err != nil {
			t.Fatalf("%s is not a tar: %v", file, err)
		}
		names[h.Name] = true
	}
}

// TestCLITagSaveLoadPush (root): tag and docker's rmi of a tag; save and
// load in docker's format and as an OCI layout, several images per archive,
// giving back the same IDs and images that run; push to the test registry
// and pull the pushed image into a second berthd: the same ID and layers.
func TestCLITagSaveLoadPush(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	busybox, multi := ti.Ref("busybox:latest"), ti.Ref("multilayer:latest")
	mustPull(t, b, busybox)
	mustPull(t, b, multi)
	mustCLI(t, b, "tag", busybox, "example.test/tools/box:v1")
	if got := imageIDs(t, b); len(got) != 2 || !strings.Contains(strings.Join(got, "\n"), ti.BusyboxID+" "+busybox+",example.test/tools/box:v1") &&
		!strings.Contains(strings.Join(got, "\n"), ti.BusyboxID+" example.test/tools/box:v1,"+busybox) {
		t.Fatalf("after tag: %q", got)
	}
	// rmi of one of two tags only untags.
	if out := mustCLI(t, b, "rmi", "example.test/tools/box:v1"); !strings.Contains(out, "Untagged") {
		t.Fatalf("rmi of a shared tag: %q", out)
	}
	if got := imageIDs(t, b); len(got) != 2 || !strings.Contains(strings.Join(got, "\n"), ti.BusyboxID+" "+busybox) {
		t.Fatalf("rmi of a shared tag removed the image: %q", got)
	}
	mustCLI(t, b, "tag", busybox, "example.test/tools/box:v1")
	before := imageIDs(t, b)
	dir := t.TempDir()
	for _, format := range []string{"docker", "oci"} {
		archive := filepath.Join(dir, format+".tar")
		mustCLI(t, b, "save", "--format", format, "-o", archive, busybox, "example.test/tools/box:v1", multi)
		names := tarNames(t, archive)
		if format == "docker" && !names["manifest.json"] || format == "oci" && (!names["index.json"] || !names["oci-layout"]) {
			t.Fatalf("%s archive holds %v", format, names)
		}
		mustCLI(t, b, "rmi", busybox, "example.test/tools/box:v1", multi)
		if got := imageIDs(t, b); len(got) != 0 {
			t.Fatalf("rmi left %q", got)
		}
		verb := map[string]string{"docker": "load", "oci": "import"}[format]
		out := mustCLI(t, b, verb, "-i", archive)
		if strings.Count(out, "Loaded image:") != 3 {
			t.Errorf("%s said %q", verb, out)
		}
		if got := imageIDs(t, b); strings.Join(got, "\n") != strings.Join(before, "\n") {
			t.Fatalf("after %s of a %s archive:\n%s\nwant\n%s", verb, format, strings.Join(got, "\n"), strings.Join(before, "\n"))
		}
		if out := mustCLI(t, b, "run", "--rm", "--log-dir", t.TempDir(), "example.test/tools/box:v1", "echo", "loaded"); out != "loaded\n" {
			t.Fatalf("a container of the loaded image printed %q", out)
		}
	}
	// A damaged archive is refused, naming why, and leaves nothing.
	bad := filepath.Join(dir, "bad.tar")
	os.WriteFile(bad, []byte("not a tar at all, not even close................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................................"), 0o600)
	if out, code := cliExit(t, b, "load", "-i", bad); code == 0 || !strings.Contains(out, "InvalidArgument") {
		t.Errorf("load of a non-archive: exit %d %q", code, out)
	}
	if left, _ := filepath.Glob(filepath.Join(b.Root, "images", "load-*")); len(left) != 0 {
		t.Errorf("a failed load left %v", left)
	}
	// Push to the test registry under a new name; a fresh berthd pulls it.
	pushed := ti.Addr() + "/pushed/box:v2"
	if out := mustCLI(t, b, "push", "example.test/tools/box:v1", pushed); !strings.Contains(out, "Pushed "+pushed+": sha256:") {
		t.Fatalf("push said %q", out)
	}
	other := startBerthd(t, "[network]\nbridge = \"berthpush0\"\nsubnet = \"10.97.0.0/16\"\n")
	if id := mustPull(t, other, pushed); id != ti.BusyboxID {
		t.Fatalf("the pushed image pulled as %s, want %s", id, ti.BusyboxID)
	}
	st, err := other.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: pushed}, Verbose: true})
	orig, err2 := b.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: busybox}, Verbose: true})
	if err != nil || err2 != nil || layersOf(st.Info["info"]) != layersOf(orig.Info["info"]) || layersOf(st.Info["info"]) == "" {
		t.Fatalf("pushed layers %q, original %q (%v %v)", layersOf(st.Info["info"]), layersOf(orig.Info["info"]), err, err2)
	}
}

// layersOf picks the layers list out of a verbose image status.
func layersOf(info string) string {
	i := strings.Index(info, `"layers":`)
	if i < 0 {
		return ""
	}
	j := strings.Index(info[i:], "]")
	return info[i : i+j+1]
}
