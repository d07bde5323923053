package main

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func tarOf(t *testing.T, entries ...tar.Header) *bytes.Buffer {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, h := range entries {
		body := ""
		if h.Typeflag == tar.TypeReg {
			body = "data of " + h.Name
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(&h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	tw.Close()
	return &buf
}

// What a container sends is untrusted: nothing may land outside the target.
func TestUntarStaysInsideTheTarget(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "copy")
	ok := tarOf(t, tar.Header{Name: "tree/", Typeflag: tar.TypeDir, Mode: 0o755},
		tar.Header{Name: "tree/a", Typeflag: tar.TypeReg, Mode: 0o644},
		tar.Header{Name: "tree/sub/b", Typeflag: tar.TypeReg, Mode: 0o600},
		tar.Header{Name: "tree/l", Typeflag: tar.TypeSymlink, Linkname: "sub/b"})
	if err := untarAs(ok, "tree", target); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(filepath.Join(target, "sub", "b")); string(data) != "data of tree/sub/b" {
		t.Fatalf("copied %q", data)
	}
	for _, bad := range []*bytes.Buffer{
		tarOf(t, tar.Header{Name: "tree/../../escape", Typeflag: tar.TypeReg, Mode: 0o644}),
		tarOf(t, tar.Header{Name: "other/x", Typeflag: tar.TypeReg, Mode: 0o644}),
		tarOf(t, tar.Header{Name: "tree/l2", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}),
		tarOf(t, tar.Header{Name: "tree/l3", Typeflag: tar.TypeSymlink, Linkname: "../../../x"}),
		// one level up is the copy's parent: a later tree/up/evil would land beside the copy
		tarOf(t, tar.Header{Name: "tree/up", Typeflag: tar.TypeSymlink, Linkname: ".."}),
		tarOf(t, tar.Header{Name: "tree/sub/up2", Typeflag: tar.TypeSymlink, Linkname: "../.."}),
	} {
		if err := untarAs(bad, "tree", target); err == nil || !strings.Contains(err.Error(), "refusing") {
			t.Errorf("a hostile entry: %v", err)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "escape")); err == nil {
		t.Fatal("an entry escaped the target")
	}
}

func TestSplitContainerPath(t *testing.T) {
	for in, want := range map[string][3]string{
		"web:/etc/hosts": {"web", "/etc/hosts", "true"}, "/tmp/a:b": {"", "/tmp/a:b", "false"},
		"./x": {"", "./x", "false"}, "c1:rel": {"c1", "rel", "true"},
	} {
		c, p, in2 := splitContainerPath(in)
		if c != want[0] || p != want[1] || (in2 && want[2] != "true") || (!in2 && want[2] != "false") {
			t.Errorf("%s: %q %q %v", in, c, p, in2)
		}
	}
}
