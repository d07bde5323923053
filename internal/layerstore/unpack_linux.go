package layerstore

import (
	"archive/tar"
	"fmt"
	"io"
	"os"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// OCI whiteout names, see the image-spec's layer.md.
const (
	whiteoutPrefix = ".wh."
	whiteoutOpaque = ".wh..wh..opq"
	whiteoutMeta   = ".wh..wh."
)

var copyBuffers = sync.Pool{New: func() any { b := make([]byte, 256<<10); return &b }}

// Unpack extracts the tar stream r into dir as an overlayfs lower directory:
// OCI whiteouts become overlay whiteouts (0:0 character devices) and opaque
// markers become the trusted.overlay.opaque xattr.
//
// Nothing outside dir is ever created, changed or removed: every path is
// resolved by the kernel with RESOLVE_IN_ROOT against dir, so symlinks and
// ".." cannot leave it, and entries that try to are rejected. Device nodes
// are skipped (the runtime provides /dev).
func Unpack(r io.Reader, dir string) error {
	rootFD, err := unix.Open(dir, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("open unpack target %s: %w", dir, err)
	}
	u := &unpacker{root: rootFD, chown: os.Geteuid() == 0}
	defer unix.Close(rootFD)
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			return u.finishDirs()
		}
		if err != nil {
			return fmt.Errorf("read layer tar: %w", err)
		}
		if err := u.entry(hdr, tr); err != nil {
			return fmt.Errorf("layer entry %q: %w", hdr.Name, err)
		}
	}
}

type dirTimes struct {
	rel   string
	atime time.Time
	mtime time.Time
}

type unpacker struct {
	root  int
	chown bool
	dirs  []dirTimes
}

// cleanEntryPath confines a tar path to the target: leading "/" is dropped,
// and a path that climbs above the root with ".." is rejected.
func cleanEntryPath(name string) (string, error) {
	p := path.Clean(strings.TrimLeft(name, "/"))
	if p == ".." || strings.HasPrefix(p, "../") {
		return "", errdefs.InvalidArgument("path %q leaves the layer", name)
	}
	return p, nil
}

func (u *unpacker) entry(hdr *tar.Header, r io.Reader) error {
	rel, err := cleanEntryPath(hdr.Name)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	parent, base := path.Dir(rel), path.Base(rel)
	pfd, err := u.mkdirAll(parent)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	if strings.HasPrefix(base, whiteoutPrefix) {
		return u.whiteout(pfd, base)
	}
	switch hdr.Typeflag {
	case tar.TypeDir:
		return u.dir(pfd, base, rel, hdr)
	case tar.TypeReg, tar.TypeRegA, tar.TypeGNUSparse, tar.TypeCont:
		// archive/tar gives a sparse file's data with its holes filled in;
		// a contiguous file is a regular file to everyone but its maker.
		return u.file(pfd, base, hdr, r)
	case tar.TypeSymlink:
		return u.symlink(pfd, base, hdr)
	case tar.TypeLink:
		return u.hardlink(pfd, base, hdr)
	case tar.TypeFifo:
		if err := u.replace(pfd, base); err != nil {
			return err
		}
		if err := unix.Mknodat(pfd, base, unix.S_IFIFO|uint32(hdr.Mode&0o7777), 0); err != nil {
			return err
		}
		return u.attrs(pfd, base, hdr)
	case tar.TypeChar, tar.TypeBlock:
		return nil // devices come from the runtime, never from an image
	case tar.TypeXGlobalHeader:
		return nil // metadata only
	default:
		// Never skip what cannot be unpacked: the image would run with a
		// file missing.
		return errdefs.InvalidArgument("unsupported tar entry type %q", string(hdr.Typeflag))
	}
}

// openIn resolves rel inside the root; the kernel keeps the walk inside it.
func (u *unpacker) openIn(rel string) (int, error) {
	how := &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS,
	}
	for {
		fd, err := unix.Openat2(u.root, rel, how)
		if err != unix.EINTR && err != unix.EAGAIN {
			return fd, err
		}
	}
}

// mkdirAll opens directory rel, creating missing components with mode 0755.
func (u *unpacker) mkdirAll(rel string) (int, error) {
	fd, err := u.openIn(rel)
	if err == nil || err != unix.ENOENT {
		return fd, err
	}
	cur := "."
	for _, comp := range strings.Split(rel, "/") {
		pfd, err := u.openIn(cur)
		if err != nil {
			return -1, err
		}
		err = unix.Mkdirat(pfd, comp, 0o755)
		unix.Close(pfd)
		if err != nil && err != unix.EEXIST {
			return -1, fmt.Errorf("mkdir %s: %w", path.Join(cur, comp), err)
		}
		cur = path.Join(cur, comp)
	}
	return u.openIn(rel)
}

// replace removes whatever stands at base so that a new entry can take its
// place; a directory stays if the new entry is a directory (handled by dir).
func (u *unpacker) replace(pfd int, base string) error {
	err := unix.Unlinkat(pfd, base, 0)
	if err == unix.EISDIR || err == unix.EPERM {
		err = unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR)
	}
	if err == unix.ENOENT {
		return nil
	}
	return err
}

func (u *unpacker) dir(pfd int, base, rel string, hdr *tar.Header) error {
	var st unix.Stat_t
	err := unix.Fstatat(pfd, base, &st, unix.AT_SYMLINK_NOFOLLOW)
	if err == nil && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		if err := u.replace(pfd, base); err != nil {
			return err
		}
		err = unix.ENOENT
	}
	if err == unix.ENOENT {
		if err := unix.Mkdirat(pfd, base, 0o755); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	if err := u.attrs(pfd, base, hdr); err != nil {
		return err
	}
	u.dirs = append(u.dirs, dirTimes{rel: rel, atime: hdr.AccessTime, mtime: hdr.ModTime})
	return nil
}

func (u *unpacker) file(pfd int, base string, hdr *tar.Header, r io.Reader) error {
	if err := u.replace(pfd, base); err != nil {
		return err
	}
	fd, err := unix.Openat(pfd, base, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0o600)
	if err != nil {
		return err
	}
	f := os.NewFile(uintptr(fd), base)
	buf := copyBuffers.Get().(*[]byte)
	_, err = io.CopyBuffer(f, io.LimitReader(r, hdr.Size), *buf)
	copyBuffers.Put(buf)
	if err == nil {
		err = u.fileAttrs(fd, hdr)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return u.times(pfd, base, hdr.AccessTime, hdr.ModTime)
}

func (u *unpacker) fileAttrs(fd int, hdr *tar.Header) error {
	if u.chown {
		if err := unix.Fchown(fd, hdr.Uid, hdr.Gid); err != nil {
			return err
		}
	}
	if err := unix.Fchmod(fd, uint32(hdr.Mode&0o7777)); err != nil {
		return err
	}
	for name, value := range xattrs(hdr) {
		if err := unix.Fsetxattr(fd, name, []byte(value), 0); err != nil && err != unix.ENOTSUP {
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

func (u *unpacker) symlink(pfd int, base string, hdr *tar.Header) error {
	if err := u.replace(pfd, base); err != nil {
		return err
	}
	if err := unix.Symlinkat(hdr.Linkname, pfd, base); err != nil {
		return err
	}
	if u.chown {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	return u.times(pfd, base, hdr.AccessTime, hdr.ModTime)
}

func (u *unpacker) hardlink(pfd int, base string, hdr *tar.Header) error {
	target, err := cleanEntryPath(hdr.Linkname)
	if err != nil {
		return err
	}
	if target == "." {
		return errdefs.InvalidArgument("hard link to the layer root")
	}
	tfd, err := u.openIn(path.Dir(target))
	if err != nil {
		return fmt.Errorf("hard link target %q: %w", hdr.Linkname, err)
	}
	defer unix.Close(tfd)
	if err := u.replace(pfd, base); err != nil {
		return err
	}
	// No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
	return unix.Linkat(tfd, path.Base(target), pfd, base, 0)
}

func (u *unpacker) whiteout(pfd int, base string) error {
	switch {
	case base == whiteoutOpaque:
		return unix.Setxattr(procPath(pfd, ""), "trusted.overlay.opaque", []byte("y"), 0)
	case strings.HasPrefix(base, whiteoutMeta):
		return nil // other AUFS metadata (.wh..wh.plnk ...) has no overlay meaning
	}
	name := strings.TrimPrefix(base, whiteoutPrefix)
	if name == "" || name == "." || name == ".." {
		return errdefs.InvalidArgument("bad whiteout %q", base)
	}
	if err := u.replace(pfd, name); err != nil {
		return err
	}
	return unix.Mknodat(pfd, name, unix.S_IFCHR, 0)
}

// attrs sets owner, mode and xattrs of a non-regular entry.
func (u *unpacker) attrs(pfd int, base string, hdr *tar.Header) error {
	if u.chown {
		if err := unix.Fchownat(pfd, base, hdr.Uid, hdr.Gid, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			return err
		}
	}
	if err := unix.Fchmodat(pfd, base, uint32(hdr.Mode&0o7777), 0); err != nil {
		return err
	}
	for name, value := range xattrs(hdr) {
		if err := unix.Lsetxattr(procPath(pfd, base), name, []byte(value), 0); err != nil && err != unix.ENOTSUP {
			return fmt.Errorf("xattr %s: %w", name, err)
		}
	}
	return nil
}

func (u *unpacker) times(pfd int, base string, atime, mtime time.Time) error {
	if atime.IsZero() {
		atime = mtime
	}
	ts := []unix.Timespec{unix.NsecToTimespec(atime.UnixNano()), unix.NsecToTimespec(mtime.UnixNano())}
	return unix.UtimesNanoAt(pfd, base, ts, unix.AT_SYMLINK_NOFOLLOW)
}

// finishDirs sets directory times last, since creating children changes them.
func (u *unpacker) finishDirs() error {
	for i := len(u.dirs) - 1; i >= 0; i-- {
		d := u.dirs[i]
		pfd, err := u.openIn(path.Dir(d.rel))
		if err != nil {
			return err
		}
		err = u.times(pfd, path.Base(d.rel), d.atime, d.mtime)
		unix.Close(pfd)
		if err != nil && err != unix.ENOENT {
			return fmt.Errorf("times of %s: %w", d.rel, err)
		}
	}
	return nil
}

// procPath names base inside the directory open as fd, through /proc so
// that the directory part needs no resolution from a path.
func procPath(fd int, base string) string {
	p := "/proc/self/fd/" + strconv.Itoa(fd)
	if base != "" {
		p += "/" + base
	}
	return p
}

// xattrs returns the entry's extended attributes, without those that would
// let an image steer overlayfs itself.
func xattrs(hdr *tar.Header) map[string]string {
	var out map[string]string
	for k, v := range hdr.PAXRecords {
		name, ok := strings.CutPrefix(k, "SCHILY.xattr.")
		if !ok || strings.HasPrefix(name, "trusted.overlay.") {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[name] = v
	}
	return out
}
