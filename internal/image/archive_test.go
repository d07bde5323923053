package image

import "testing"

func TestLayoutNameReadsContainerdAndOCIAnnotations(t *testing.T) {
	cases := []struct {
		ann  map[string]string
		want string
	}{
		{map[string]string{"io.containerd.image.name": "docker.io/library/busybox:1.36", "org.opencontainers.image.ref.name": "1.36"}, "docker.io/library/busybox:1.36"},
		{map[string]string{"org.opencontainers.image.ref.name": "example.test/app:v2"}, "example.test/app:v2"},
		{map[string]string{"org.opencontainers.image.ref.name": "latest"}, ""}, // a bare tag names no repository
		{map[string]string{"io.containerd.image.name": "x@sha256:" + "0123456789012345678901234567890123456789012345678901234567890123"}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		ref, ok := layoutName(c.ann)
		if got := ""; ok {
			got = ref.String()
			if got != c.want {
				t.Errorf("%v: %q, want %q", c.ann, got, c.want)
			}
		} else if c.want != "" {
			t.Errorf("%v: no name, want %q", c.ann, c.want)
		}
	}
}

func TestLastOfEachKeepsOneRecordPerImage(t *testing.T) {
	a1 := &Record{ID: "sha256:a", RepoTags: []string{"x:1"}}
	b := &Record{ID: "sha256:b"}
	a2 := &Record{ID: "sha256:a", RepoTags: []string{"x:1", "x:2"}}
	got := lastOfEach([]*Record{a1, b, a2})
	if len(got) != 2 || got[0] != a2 || got[1] != b {
		t.Fatalf("%v", got)
	}
}
