package image

import (
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
)

const testDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func TestParseReferenceNormalises(t *testing.T) {
	cases := map[string]string{
		"busybox":                    "docker.io/library/busybox:latest",
		"busybox:1.36":               "docker.io/library/busybox:1.36",
		"library/busybox":            "docker.io/library/busybox:latest",
		"me/app:v1":                  "docker.io/me/app:v1",
		"index.docker.io/me/app":     "docker.io/me/app:latest",
		"quay.io/a/b/c:t":            "quay.io/a/b/c:t",
		"localhost/app":              "localhost/app:latest",
		"127.0.0.1:5000/app:1":       "127.0.0.1:5000/app:1",
		"busybox@" + testDigest:      "docker.io/library/busybox@" + testDigest,
		"busybox:1.36@" + testDigest: "docker.io/library/busybox@" + testDigest,
		"registry.k8s.io/pause:3.10": "registry.k8s.io/pause:3.10",
	}
	for in, want := range cases {
		r, err := ParseReference(in)
		if err != nil {
			t.Errorf("%q: %v", in, err)
			continue
		}
		if r.String() != want {
			t.Errorf("%q: got %q, want %q", in, r.String(), want)
		}
	}
}

func TestParseReferenceRejects(t *testing.T) {
	for _, in := range []string{"", " busybox", "Busybox", "busybox@sha256:abc", "a//b", "busy box", "busybox:", "quay.io/"} {
		if _, err := ParseReference(in); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: want InvalidArgument, got %v", in, err)
		}
	}
}

func TestShortAndParseID(t *testing.T) {
	r, _ := ParseReference("busybox")
	if r.Short() != "busybox:latest" {
		t.Fatalf("short %q", r.Short())
	}
	if id, ok := parseID(testDigest[len("sha256:"):]); !ok || id.String() != testDigest {
		t.Fatalf("bare hex id: %v %v", id, ok)
	}
	if _, ok := parseID("busybox"); ok {
		t.Fatal("busybox is not an ID")
	}
}
