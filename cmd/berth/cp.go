package main

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/remotecommand"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// berth cp copies through a streaming exec of tar in the container, as
// kubectl cp does: the CRI has no file calls, and tar is in most images.

func newCpCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "cp CONTAINER:SRC DEST | SRC CONTAINER:DEST",
		Short: "Copy files or directories between a container and this node (the container needs tar)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			srcCtr, srcPath, srcIn := splitContainerPath(args[0])
			dstCtr, dstPath, dstIn := splitContainerPath(args[1])
			if srcIn == dstIn {
				return usage(errors.New("one side, and only one, is CONTAINER:PATH"))
			}
			return g.with(func(c *client) error {
				if srcIn {
					id, err := c.resolveContainer(srcCtr)
					if err != nil {
						return err
					}
					return c.copyFrom(id, srcPath, dstPath)
				}
				id, err := c.resolveContainer(dstCtr)
				if err != nil {
					return err
				}
				return c.copyTo(id, srcPath, dstPath)
			})
		},
	}
}

// splitContainerPath reads CONTAINER:PATH; a local path may hold a colon
// only after a slash (./a:b, /x:y).
func splitContainerPath(arg string) (ctr, p string, inContainer bool) {
	i := strings.Index(arg, ":")
	if i <= 0 || strings.Contains(arg[:i], "/") {
		return "", arg, false
	}
	return arg[:i], arg[i+1:], true
}

// execStream runs cmd in the container with stdin and stdout streamed.
func (c *client) execStream(id string, cmd []string, stdin io.Reader, stdout io.Writer) error {
	var resp *runtime.ExecResponse
	err := c.call(func(ctx context.Context) (err error) {
		resp, err = c.Runtime.Exec(ctx, &runtime.ExecRequest{ContainerId: id, Cmd: cmd, Stdin: stdin != nil, Stdout: true, Stderr: true})
		return err
	})
	if err != nil {
		return err
	}
	ex, err := executorFor(resp.Url, false)
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	err = ex.StreamWithContext(context.Background(), remotecommand.StreamOptions{Stdin: stdin, Stdout: stdout, Stderr: &stderr})
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%s: %v", msg, err)
		}
		return err
	}
	return nil
}

// copyFrom copies src (a file or directory in the container) to dst here:
// into dst when it is a directory, else as dst.
func (c *client) copyFrom(id, src, dst string) error {
	src = path.Clean(src)
	if !path.IsAbs(src) {
		src = "/" + src
	}
	name := path.Base(src)
	target := dst
	if st, err := os.Stat(dst); err == nil && st.IsDir() {
		target = filepath.Join(dst, name)
	}
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() { done <- untarAs(pr, name, target) }()
	err := c.execStream(id, []string{"tar", "cf", "-", "-C", path.Dir(src), name}, nil, pw)
	pw.CloseWithError(err)
	if uerr := <-done; err == nil {
		err = uerr
	}
	return err
}

// untarAs writes the tar entries under name (the copied file or tree) as
// target, refusing any entry that would land outside it.
func untarAs(r io.Reader, name, target string) error {
	defer io.Copy(io.Discard, r)
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		rel := path.Clean(h.Name)
		if rel != name && !strings.HasPrefix(rel, name+"/") {
			return fmt.Errorf("refusing %q: outside %s", h.Name, name)
		}
		out := filepath.Join(target, filepath.FromSlash(strings.TrimPrefix(rel, name)))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(out, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o777)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		case tar.TypeSymlink:
			// The link must resolve inside the copy: a later entry written
			// through it would land wherever it points.
			to := path.Clean(path.Join(path.Dir(rel), h.Linkname))
			if path.IsAbs(h.Linkname) || (to != name && !strings.HasPrefix(to, name+"/")) {
				return fmt.Errorf("refusing symlink %q -> %q: it points outside the copy", h.Name, h.Linkname)
			}
			os.Remove(out)
			if err := os.Symlink(h.Linkname, out); err != nil {
				return err
			}
		default:
			// devices, fifos, hard links: not copied, as docker cp does not either
		}
	}
}

// copyTo copies src (a file or directory here) to dst in the container:
// into dst when it ends in / or is a directory there, else as dst.
func (c *client) copyTo(id, src, dst string) error {
	st, err := os.Stat(src)
	if err != nil {
		return err
	}
	if !path.IsAbs(dst) {
		dst = "/" + dst
	}
	name := path.Base(path.Clean(dst))
	dir := path.Dir(path.Clean(dst))
	if strings.HasSuffix(dst, "/") || c.isDirIn(id, dst) {
		dir, name = path.Clean(dst), filepath.Base(src)
	}
	pr, pw := io.Pipe()
	go func() { pw.CloseWithError(tarAs(pw, src, st, name)) }()
	return c.execStream(id, []string{"tar", "xf", "-", "-C", dir}, pr, io.Discard)
}

// isDirIn tells whether p is a directory in the container.
func (c *client) isDirIn(id, p string) bool {
	ctx, cancel := c.ctx()
	defer cancel()
	resp, err := c.Runtime.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"test", "-d", p}, Timeout: 10})
	return err == nil && resp.ExitCode == 0
}

// tarAs writes src (file or tree) as a tar whose entries are under name.
func tarAs(w io.Writer, src string, st os.FileInfo, name string) error {
	tw := tar.NewWriter(w)
	err := filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		entry := path.Join(name, filepath.ToSlash(rel))
		link := ""
		if fi.Mode()&os.ModeSymlink != 0 {
			if link, err = os.Readlink(p); err != nil {
				return err
			}
		}
		h, err := tar.FileInfoHeader(fi, link)
		if err != nil {
			return nil // a socket or the like: skipped
		}
		h.Name = entry
		h.Uname, h.Gname = "", ""
		if err := tw.WriteHeader(h); err != nil {
			return err
		}
		if fi.Mode().IsRegular() {
			f, err := os.Open(p)
			if err != nil {
				return err
			}
			_, err = io.Copy(tw, f)
			f.Close()
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	return tw.Close()
}
