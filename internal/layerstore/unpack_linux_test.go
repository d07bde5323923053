package layerstore

import (
	"archive/tar"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

type tarEntry struct {
	name     string
	typ      byte
	body     string
	linkname string
	mode     int64
	uid      int
}

func buildTar(t testing.TB, entries ...tarEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		mode := e.mode
		if mode == 0 {
			mode = 0o644
			if e.typ == tar.TypeDir {
				mode = 0o755
			}
		}
		hdr := &tar.Header{Name: e.name, Typeflag: e.typ, Linkname: e.linkname, Mode: mode, Size: int64(len(e.body)), Uid: e.uid}
		if e.typ != tar.TypeReg {
			hdr.Size = 0
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if e.typ == tar.TypeReg {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	return buf.Bytes()
}

func requireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("root only: overlay whiteouts need CAP_MKNOD and trusted.* xattrs")
	}
}

// sandbox makes parent/{root,outside/sentinel} and returns root and a check
// that fails the test if anything outside root changed.
func sandbox(t testing.TB) (string, func()) {
	t.Helper()
	parent := t.TempDir()
	root := filepath.Join(parent, "root")
	outside := filepath.Join(parent, "outside")
	os.Mkdir(root, 0o755)
	os.Mkdir(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "sentinel"), []byte("keep"), 0o644)
	return root, func() {
		t.Helper()
		entries, _ := os.ReadDir(parent)
		if len(entries) != 2 {
			t.Fatalf("unpack created something beside its root: %v", entries)
		}
		inside, _ := os.ReadDir(outside)
		data, _ := os.ReadFile(filepath.Join(outside, "sentinel"))
		if len(inside) != 1 || string(data) != "keep" {
			t.Fatalf("unpack changed a directory outside its root: %v %q", inside, data)
		}
		fi, err := os.Lstat(filepath.Join(outside, "sentinel"))
		if err != nil || fi.Mode()&0o777 != 0o644 {
			t.Fatalf("sentinel mode changed: %v %v", fi, err)
		}
	}
}

func TestUnpackFilesLinksAndWhiteouts(t *testing.T) {
	requireRoot(t)
	root, check := sandbox(t)
	data := buildTar(t,
		tarEntry{name: "bin/", typ: tar.TypeDir},
		tarEntry{name: "bin/busybox", typ: tar.TypeReg, body: "ELF", mode: 0o4755},
		tarEntry{name: "bin/sh", typ: tar.TypeSymlink, linkname: "busybox"},
		tarEntry{name: "bin/ash", typ: tar.TypeLink, linkname: "bin/busybox"},
		tarEntry{name: "etc/passwd", typ: tar.TypeReg, body: "root:x:0:0::/root:/bin/sh\n", uid: 1000},
		tarEntry{name: "etc/.wh.shadow", typ: tar.TypeReg},
		tarEntry{name: "var/cache/.wh..wh..opq", typ: tar.TypeReg},
		tarEntry{name: "dev/null", typ: tar.TypeChar},
		tarEntry{name: "run/fifo", typ: tar.TypeFifo},
	)
	if err := Unpack(bytes.NewReader(data), root); err != nil {
		t.Fatal(err)
	}
	check()
	fi, err := os.Stat(filepath.Join(root, "bin/busybox"))
	if err != nil || fi.Mode()&fs.ModeSetuid == 0 || fi.Mode().Perm() != 0o755 {
		t.Fatalf("busybox mode: %v %v", fi, err)
	}
	if l, _ := os.Readlink(filepath.Join(root, "bin/sh")); l != "busybox" {
		t.Fatalf("symlink target %q", l)
	}
	var a, b unix.Stat_t
	unix.Stat(filepath.Join(root, "bin/ash"), &a)
	unix.Stat(filepath.Join(root, "bin/busybox"), &b)
	if a.Ino != b.Ino {
		t.Fatal("hard link is not the same inode")
	}
	var pw unix.Stat_t
	unix.Stat(filepath.Join(root, "etc/passwd"), &pw)
	if pw.Uid != 1000 {
		t.Fatalf("owner %d, want 1000", pw.Uid)
	}
	var wh unix.Stat_t
	if err := unix.Lstat(filepath.Join(root, "etc/shadow"), &wh); err != nil || wh.Mode&unix.S_IFMT != unix.S_IFCHR || wh.Rdev != 0 {
		t.Fatalf("whiteout is not a 0:0 char device: %+v %v", wh, err)
	}
	buf := make([]byte, 8)
	n, err := unix.Getxattr(filepath.Join(root, "var/cache"), "trusted.overlay.opaque", buf)
	if err != nil || string(buf[:n]) != "y" {
		t.Fatalf("opaque xattr: %q %v", buf[:n], err)
	}
	if _, err := os.Lstat(filepath.Join(root, "dev/null")); !os.IsNotExist(err) {
		t.Fatalf("device node was created: %v", err)
	}
	if fi, err := os.Lstat(filepath.Join(root, "run/fifo")); err != nil || fi.Mode()&fs.ModeNamedPipe == 0 {
		t.Fatalf("fifo: %v %v", fi, err)
	}
}

func TestUnpackLaterEntryReplacesEarlier(t *testing.T) {
	requireRoot(t)
	root, check := sandbox(t)
	data := buildTar(t,
		tarEntry{name: "a", typ: tar.TypeReg, body: "one"},
		tarEntry{name: "a", typ: tar.TypeReg, body: "two"},
		tarEntry{name: "d", typ: tar.TypeSymlink, linkname: "/"},
		tarEntry{name: "d", typ: tar.TypeDir},
	)
	if err := Unpack(bytes.NewReader(data), root); err != nil {
		t.Fatal(err)
	}
	check()
	if b, _ := os.ReadFile(filepath.Join(root, "a")); string(b) != "two" {
		t.Fatalf("a = %q", b)
	}
	if fi, err := os.Lstat(filepath.Join(root, "d")); err != nil || !fi.IsDir() {
		t.Fatalf("d: %v %v", fi, err)
	}
}

// escapeTars are the classic layer attacks. Each must leave everything
// outside the target untouched, whether Unpack fails or confines the entry.
func escapeTars(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"dotdot":      buildTar(t, tarEntry{name: "../outside/evil", typ: tar.TypeReg, body: "x"}),
		"dotdot-deep": buildTar(t, tarEntry{name: "a/../../outside/sentinel", typ: tar.TypeReg, body: "x"}),
		"absolute":    buildTar(t, tarEntry{name: "/outside/sentinel", typ: tar.TypeReg, body: "x"}),
		"symlink-dir": buildTar(t,
			tarEntry{name: "esc", typ: tar.TypeSymlink, linkname: "../outside"},
			tarEntry{name: "esc/sentinel", typ: tar.TypeReg, body: "x"}),
		"symlink-abs": buildTar(t,
			tarEntry{name: "esc", typ: tar.TypeSymlink, linkname: "/"},
			tarEntry{name: "esc/../outside/sentinel", typ: tar.TypeReg, body: "x"}),
		"symlink-then-chmod": buildTar(t,
			tarEntry{name: "esc", typ: tar.TypeSymlink, linkname: "../outside"},
			tarEntry{name: "esc/", typ: tar.TypeDir, mode: 0o777}),
		"hardlink-out": buildTar(t, tarEntry{name: "h", typ: tar.TypeLink, linkname: "../outside/sentinel"}),
		"hardlink-via-symlink": buildTar(t,
			tarEntry{name: "esc", typ: tar.TypeSymlink, linkname: "../outside"},
			tarEntry{name: "h", typ: tar.TypeLink, linkname: "esc/sentinel"}),
		"whiteout-out": buildTar(t,
			tarEntry{name: "esc", typ: tar.TypeSymlink, linkname: "../outside"},
			tarEntry{name: "esc/.wh.sentinel", typ: tar.TypeReg}),
		"whiteout-dotdot": buildTar(t, tarEntry{name: ".wh..", typ: tar.TypeReg}),
		"device":          buildTar(t, tarEntry{name: "sda", typ: tar.TypeBlock}),
	}
}

func TestUnpackNeverEscapes(t *testing.T) {
	requireRoot(t)
	for name, data := range escapeTars(t) {
		t.Run(name, func(t *testing.T) {
			root, check := sandbox(t)
			_ = Unpack(bytes.NewReader(data), root) // an error is fine; an escape is not
			check()
		})
	}
}

func TestUnpackRejectsDotDot(t *testing.T) {
	requireRoot(t)
	root, check := sandbox(t)
	if err := Unpack(bytes.NewReader(escapeTars(t)["dotdot"]), root); err == nil {
		t.Fatal("a path climbing out of the layer must be an error")
	}
	check()
}

func FuzzUnpack(f *testing.F) {
	requireRoot(f)
	for _, data := range escapeTars(f) {
		f.Add(data)
	}
	f.Add(buildTar(f, tarEntry{name: "a/b/c", typ: tar.TypeReg, body: "x"}, tarEntry{name: "a/.wh..wh..opq", typ: tar.TypeReg}))
	f.Fuzz(func(t *testing.T, data []byte) {
		root, check := sandbox(t)
		_ = Unpack(bytes.NewReader(data), root)
		check()
	})
}
