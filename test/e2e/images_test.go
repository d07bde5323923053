package e2e

import (
	"archive/tar"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

// e2eImages are the images e2e.test names that can be built on this
// machine, offline, keyed by repository below the registry host; each
// builder gets the image's tag. The others are listed as unavailable.
type imageBuilder func(tag string) (v1.Image, error)

type imageKit struct {
	bin     string // the Kubernetes binaries: agnhost, nnp
	k8sSrc  string // k8s.io/kubernetes in the module cache (test/images data)
	pause   string // berth-pause
	builder map[string]imageBuilder
}

func newImageKit(bin, k8sSrc, pause string) *imageKit {
	k := &imageKit{bin: bin, k8sSrc: k8sSrc, pause: pause}
	k.builder = map[string]imageBuilder{
		"e2e-test-images/agnhost":    k.agnhost,
		"e2e-test-images/busybox":    k.busybox,
		"e2e-test-images/nonroot":    k.nonroot,
		"e2e-test-images/nonewprivs": k.nonewprivs,
		"e2e-test-images/kitten":     k.webserver("kitten"),
		"e2e-test-images/nautilus":   k.webserver("nautilus"),
		"pause":                      func(string) (v1.Image, error) { return fixture.Pause(k.pause) },
	}
	return k
}

var path = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}

// busyboxLayers is the project's busybox layer plus bash with the host's
// libraries. The upstream busybox 1.37 image's ash keeps environment
// variables whose names are not shell names ("1-FOO"; specs run `sh -c
// env` and look for them) and words its errors as ash does (a spec runs
// `/bin/sh -c 'echo > /file'` and expects ash's text). Offline there is
// Debian's busybox ash, which drops such names, and bash, which words
// errors otherwise: /bin/sh stays ash, and the `sh` found on PATH first
// (/usr/bin/sh) is bash. With shIsBash, /bin/sh is bash too: Debian's ash
// runs its own applets before PATH, and agnhost's specs need the host's
// netcat (busybox's nc has no -u) behind `/bin/sh -c 'nc ...'`.
func busyboxLayers(shIsBash bool) ([]v1.Layer, error) {
	base, err := fixture.BusyboxLayer()
	if err != nil {
		return nil, err
	}
	l0, err := fixture.Layer(base, fixture.Gzip)
	if err != nil {
		return nil, err
	}
	entries, err := hostBinary("/bin/bash")
	if err != nil {
		return nil, err
	}
	entries = append(entries, fixture.Dir("usr/"), fixture.Dir("usr/bin/"),
		fixture.Entry{Name: "usr/bin/sh", Type: tar.TypeSymlink, Linkname: "/bin/bash", Mode: 0o777})
	if shIsBash {
		entries = append(entries, fixture.Entry{Name: "bin/sh", Type: tar.TypeSymlink, Linkname: "bash", Mode: 0o777})
	}
	l1, err := fixture.Layer(fixture.Tar(entries...), fixture.Gzip)
	if err != nil {
		return nil, err
	}
	return []v1.Layer{l0, l1}, nil
}

// hostBinary is a host executable and the shared libraries ldd names.
func hostBinary(bin string) ([]fixture.Entry, error) {
	out, err := exec.Command("ldd", bin).Output()
	if err != nil {
		return nil, fmt.Errorf("ldd %s: %w", bin, err)
	}
	files := []string{bin}
	for _, m := range regexp.MustCompile(`(/[^ ]+) \(0x`).FindAllStringSubmatch(string(out), -1) {
		files = append(files, m[1])
	}
	dirs := map[string]bool{}
	var entries []fixture.Entry
	for _, f := range files {
		real, err := filepath.EvalSymlinks(f)
		if err != nil {
			return nil, err
		}
		body, err := os.ReadFile(real)
		if err != nil {
			return nil, err
		}
		name := strings.TrimPrefix(f, "/")
		for d := filepath.Dir(name); d != "." && !dirs[d]; d = filepath.Dir(d) {
			dirs[d] = true
			entries = append([]fixture.Entry{fixture.Dir(d + "/")}, entries...)
		}
		entries = append(entries, fixture.Entry{Name: name, Body: body, Mode: 0o755})
	}
	return entries, nil
}

// uniqueEntries keeps the first entry of each name (two binaries share
// directories and libraries).
func uniqueEntries(entries []fixture.Entry) []fixture.Entry {
	seen := map[string]bool{}
	var out []fixture.Entry
	for _, e := range entries {
		if !seen[e.Name] {
			seen[e.Name] = true
			out = append(out, e)
		}
	}
	return out
}

func (k *imageKit) busybox(string) (v1.Image, error) {
	layers, err := busyboxLayers(false)
	if err != nil {
		return nil, err
	}
	return fixture.Image(v1.Config{Cmd: []string{"sh"}, Env: path}, false, layers...)
}

func (k *imageKit) nonroot(string) (v1.Image, error) {
	layers, err := busyboxLayers(false)
	if err != nil {
		return nil, err
	}
	return fixture.Image(v1.Config{Cmd: []string{"sh"}, Env: path, User: "1234"}, false, layers...)
}

// agnhost is the agnhost binary of the Kubernetes version under test with
// what its image adds (agnhost-2, porter's certificate, /uploads, a user
// and group of the image's own) on busybox. Every tag gets this binary;
// a tag other than the binary's own version (2.55, the "previous" image
// rolling updates switch to) is marked in /agnhost-tag so its digest
// differs.
func (k *imageKit) agnhost(tag string) (v1.Image, error) {
	layers, err := busyboxLayers(true)
	if err != nil {
		return nil, err
	}
	// curl and a netcat with UDP, as the upstream image (alpine) has them:
	// the networking specs probe pods with them (busybox's nc has no -u).
	// The host's, with the libraries ldd names.
	curl, err := hostBinary("/usr/bin/curl")
	if err != nil {
		return nil, fmt.Errorf("curl for agnhost (Debian package curl): %w", err)
	}
	nc, err := hostBinary("/usr/bin/nc.openbsd")
	if err != nil {
		return nil, fmt.Errorf("nc for agnhost (Debian package netcat-openbsd): %w", err)
	}
	nc = append(nc, fixture.Entry{Name: "usr/bin/nc", Type: tar.TypeSymlink, Linkname: "nc.openbsd", Mode: 0o777})
	cl, err := fixture.Layer(fixture.Tar(uniqueEntries(append(curl, nc...))...), fixture.Gzip)
	if err != nil {
		return nil, err
	}
	layers = append(layers, cl)
	bin, err := os.ReadFile(filepath.Join(k.bin, "agnhost"))
	if err != nil {
		return nil, err
	}
	crt, err := os.ReadFile(filepath.Join(k.k8sSrc, "test/images/agnhost/porter/localhost.crt"))
	if err != nil {
		return nil, err
	}
	key, err := os.ReadFile(filepath.Join(k.k8sSrc, "test/images/agnhost/porter/localhost.key"))
	if err != nil {
		return nil, err
	}
	l, err := fixture.Layer(fixture.Tar(
		fixture.Entry{Name: "agnhost", Body: bin, Mode: 0o755},
		fixture.Entry{Name: "agnhost-2", Type: tar.TypeSymlink, Linkname: "agnhost", Mode: 0o777},
		fixture.Entry{Name: "localhost.crt", Body: crt, Mode: 0o644},
		fixture.Entry{Name: "localhost.key", Body: key, Mode: 0o644},
		fixture.File("agnhost-tag", tag+"\n"),
		fixture.Dir("uploads/"), fixture.Dir("etc/"),
		fixture.File("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nuser-defined-in-image:x:1000:1000::/home/user-defined-in-image:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n"),
		fixture.File("etc/group", "root:x:0:\nuser-defined-in-image:x:1000:\ngroup-defined-in-image:x:50000:user-defined-in-image\nnogroup:x:65534:\n"),
	), fixture.Gzip)
	if err != nil {
		return nil, err
	}
	cfg := v1.Config{Entrypoint: []string{"/agnhost"}, Cmd: []string{"pause"}, Env: path,
		ExposedPorts: map[string]struct{}{"80/tcp": {}, "8080/tcp": {}, "8081/tcp": {}, "9376/tcp": {}, "5000/tcp": {}}}
	return fixture.Image(cfg, false, append(layers, l)...)
}

// webserver is kitten or nautilus: agnhost's test-webserver serving the
// image's picture and data.json.
func (k *imageKit) webserver(name string) imageBuilder {
	return func(tag string) (v1.Image, error) {
		base, err := k.agnhost(tag)
		if err != nil {
			return nil, err
		}
		var entries []fixture.Entry
		for _, f := range []string{name + ".jpg", "data.json"} {
			body, err := os.ReadFile(filepath.Join(k.k8sSrc, "test/images", name, "html", f))
			if err != nil {
				return nil, err
			}
			entries = append(entries, fixture.Entry{Name: f, Body: body, Mode: 0o644})
		}
		l, err := fixture.Layer(fixture.Tar(entries...), fixture.Gzip)
		if err != nil {
			return nil, err
		}
		layers, err := base.Layers()
		if err != nil {
			return nil, err
		}
		return fixture.Image(v1.Config{Entrypoint: []string{"/agnhost"}, Cmd: []string{"test-webserver"}, Env: path}, false, append(layers, l)...)
	}
}

// nonewprivs is the nnp program, setuid root, run as uid 1000.
func (k *imageKit) nonewprivs(string) (v1.Image, error) {
	layers, err := busyboxLayers(false)
	if err != nil {
		return nil, err
	}
	bin, err := os.ReadFile(filepath.Join(k.bin, "nnp"))
	if err != nil {
		return nil, err
	}
	l, err := fixture.Layer(fixture.Tar(fixture.Dir("usr/"), fixture.Dir("usr/local/"), fixture.Dir("usr/local/bin/"),
		fixture.Entry{Name: "usr/local/bin/nnp", Body: bin, Mode: 0o4755}), fixture.Gzip)
	if err != nil {
		return nil, err
	}
	return fixture.Image(v1.Config{Cmd: []string{"nnp"}, Env: path}, false, append(layers, l)...)
}

// pushE2EImages pushes every image of refs that can be built here to reg
// under its path without the registry host, and returns the refs it could
// not build and the registry hosts named.
func (k *imageKit) push(reg *fixture.Registry, refs []string) (missing []string, hosts []string, err error) {
	seen := map[string]bool{}
	for _, ref := range refs {
		host, rest, ok := strings.Cut(ref, "/")
		if !ok {
			continue
		}
		if !seen[host] {
			seen[host] = true
			hosts = append(hosts, host)
		}
		repo, tag, _ := strings.Cut(rest, ":")
		build, ok := k.builder[repo]
		if !ok || host == "gcr.io" { // gcr.io/k8s-authenticated-test: a private registry the specs must fail to pull from
			missing = append(missing, ref)
			continue
		}
		img, err := build(tag)
		if err != nil {
			return nil, nil, fmt.Errorf("build %s: %w", ref, err)
		}
		if err := reg.Push(rest, img); err != nil {
			return nil, nil, fmt.Errorf("push %s: %w", ref, err)
		}
	}
	return missing, hosts, nil
}
