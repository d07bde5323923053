package image

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Load stores the images of an archive read from r: a docker archive
// (`docker save`, `ctr image export --skip-manifest-json` aside) or an OCI
// image layout tar, told apart by their files. The archive is spooled to
// a file under the image store (never held in memory); each layer is
// checked against its digests as a pulled one is.
func (s *Service) Load(r io.Reader) ([]*Record, error) {
	tmp, err := os.MkdirTemp(s.dir, "load-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	file := filepath.Join(tmp, "archive.tar")
	f, err := os.OpenFile(file, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(f, r)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("receive the archive: %w", err)
	}
	names, err := archiveNames(file)
	if err != nil {
		return nil, err
	}
	var recs []*Record
	switch {
	case names["manifest.json"]:
		recs, err = s.loadDocker(file)
	case names["index.json"] && names["oci-layout"]:
		dir := filepath.Join(tmp, "layout")
		if err = extractLayout(file, dir); err == nil {
			recs, err = s.loadOCI(dir)
		}
	default:
		err = errdefs.InvalidArgument("the archive is neither a docker archive (manifest.json) nor an OCI image layout (oci-layout, index.json)")
	}
	if err != nil {
		return nil, err
	}
	return lastOfEach(recs), nil
}

// lastOfEach keeps one record per image (an image under several names is
// imported once per name), the last: it has every name.
func lastOfEach(recs []*Record) []*Record {
	var out []*Record
	at := map[ID]int{}
	for _, r := range recs {
		if i, ok := at[r.ID]; ok {
			out[i] = r
			continue
		}
		at[r.ID] = len(out)
		out = append(out, r)
	}
	return out
}

// archiveNames lists the cleaned names of a tar's entries.
func archiveNames(file string) (map[string]bool, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	names := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return names, nil
		}
		if err != nil {
			return nil, errdefs.InvalidArgument("not a tar archive: %v", err)
		}
		names[path.Clean(strings.TrimPrefix(h.Name, "./"))] = true
	}
}

func (s *Service) loadDocker(file string) ([]*Record, error) {
	opener := func() (io.ReadCloser, error) { return os.Open(file) }
	manifest, err := tarball.LoadManifest(opener)
	if err != nil {
		return nil, errdefs.InvalidArgument("docker archive: %v", err)
	}
	var out []*Record
	for i, entry := range manifest {
		var tag *name.Tag
		var refs []Reference
		for _, t := range entry.RepoTags {
			ref, err := ParseReference(t)
			if err != nil {
				return nil, errdefs.InvalidArgument("docker archive: image %d: tag %q: %v", i, t, err)
			}
			refs = append(refs, ref)
		}
		if len(entry.RepoTags) > 0 {
			t, err := name.NewTag(entry.RepoTags[0])
			if err != nil {
				return nil, errdefs.InvalidArgument("docker archive: tag %q: %v", entry.RepoTags[0], err)
			}
			tag = &t
		} else if len(manifest) > 1 {
			return nil, errdefs.InvalidArgument("docker archive: image %d (config %s) has no tag; only a one-image archive may hold an untagged one", i, entry.Config)
		}
		img, err := tarball.Image(opener, tag)
		if err != nil {
			return nil, errdefs.InvalidArgument("docker archive: image %d: %v", i, err)
		}
		rec, err := s.importImage(img, refs)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// extractLayout unpacks an OCI layout tar into dir: directories and
// regular files only, every name kept inside dir.
func extractLayout(file, dir string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := os.Mkdir(dir, 0o700); err != nil {
		return err
	}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return errdefs.InvalidArgument("OCI layout: %v", err)
		}
		clean := path.Clean("/" + h.Name)[1:]
		if clean == "" {
			continue
		}
		target := filepath.Join(dir, filepath.FromSlash(clean))
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o700); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o700); err != nil {
				return err
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_EXCL, 0o600)
			if err != nil {
				return errdefs.InvalidArgument("OCI layout: %s: %v", h.Name, err)
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		default:
			return errdefs.InvalidArgument("OCI layout: %s: only files and directories belong in an image layout", h.Name)
		}
	}
}

func (s *Service) loadOCI(dir string) ([]*Record, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, errdefs.InvalidArgument("OCI layout: %v", err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		return nil, errdefs.InvalidArgument("OCI layout: index.json: %v", err)
	}
	var out []*Record
	for _, desc := range im.Manifests {
		var refs []Reference
		if ref, ok := layoutName(desc.Annotations); ok {
			refs = append(refs, ref)
		}
		img, err := layoutImage(idx, desc)
		if err != nil {
			return nil, err
		}
		rec, err := s.importImage(img, refs)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// layoutName is an index entry's image name: containerd's full name, else
// the OCI ref name when it is a whole reference (a bare tag names nothing).
func layoutName(ann map[string]string) (Reference, bool) {
	for _, key := range []string{"io.containerd.image.name", "org.opencontainers.image.ref.name"} {
		v := ann[key]
		if v == "" || (key == "org.opencontainers.image.ref.name" && !strings.ContainsAny(v, "/:")) {
			continue
		}
		if ref, err := ParseReference(v); err == nil && ref.Digest == "" {
			return ref, true
		}
	}
	return Reference{}, false
}

// layoutImage is the image an index entry names; for an index (several
// platforms), this host's.
func layoutImage(idx v1.ImageIndex, desc v1.Descriptor) (v1.Image, error) {
	if desc.MediaType.IsImage() {
		return idx.Image(desc.Digest)
	}
	if !desc.MediaType.IsIndex() {
		return nil, errdefs.InvalidArgument("OCI layout: %s is a %s, not an image", desc.Digest, desc.MediaType)
	}
	child, err := idx.ImageIndex(desc.Digest)
	if err != nil {
		return nil, errdefs.InvalidArgument("OCI layout: %v", err)
	}
	cm, err := child.IndexManifest()
	if err != nil {
		return nil, errdefs.InvalidArgument("OCI layout: %v", err)
	}
	want := hostPlatform()
	for _, d := range cm.Manifests {
		if d.Platform != nil && d.Platform.Satisfies(want) && d.MediaType.IsImage() {
			return child.Image(d.Digest)
		}
	}
	return nil, errdefs.NotFound("OCI layout: %s has no image for %s/%s", desc.Digest, want.OS, want.Architecture)
}
