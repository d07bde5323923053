package image

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/tarball"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Archive formats of Save and Load.
const (
	// FormatDocker is what `docker save` writes and `docker load` and
	// `ctr image import` read: manifest.json, configs and layer blobs.
	FormatDocker = "docker"
	// FormatOCI is an OCI image layout (oci-layout, index.json, blobs/)
	// as a tar, as `ctr image export` writes it.
	FormatOCI = "oci"
)

// saved is one image going into an archive under a name (a tag
// reference), or under none when it was asked for by ID.
type saved struct {
	img  v1.Image
	rec  *Record
	name string
}

// Save writes the images specs name (tags, digests or IDs) as one archive
// of format to w, streaming every blob from the content store. An image
// asked for by ID is saved under every tag it has.
func (s *Service) Save(w io.Writer, specs []string, format string) error {
	if format != FormatDocker && format != FormatOCI {
		return errdefs.InvalidArgument("format %q: want %s or %s", format, FormatDocker, FormatOCI)
	}
	if len(specs) == 0 {
		return errdefs.InvalidArgument("no image to save")
	}
	var images []saved
	for _, spec := range specs {
		img, rec, release, err := s.Image(spec)
		if err != nil {
			return err
		}
		defer release()
		names := rec.RepoTags
		if ref, err := ParseReference(spec); err == nil && ref.Digest == "" && contains(rec.RepoTags, ref.String()) {
			names = []string{ref.String()}
		}
		if len(names) == 0 {
			names = []string{""}
		}
		for _, n := range names {
			images = append(images, saved{img: img, rec: rec, name: n})
		}
	}
	if format == FormatOCI {
		return writeOCIArchive(w, images)
	}
	refs := map[name.Reference]v1.Image{}
	for _, im := range images {
		var ref name.Reference
		var err error
		if im.name != "" {
			ref, err = name.NewTag(im.name)
		} else { // untagged: written with no RepoTags
			ref, err = name.NewDigest("untagged/" + im.rec.ID.Hex() + "@" + im.rec.Manifest.String())
		}
		if err != nil {
			return fmt.Errorf("name %q: %w", im.name, err)
		}
		refs[ref] = im.img
	}
	return tarball.MultiRefWrite(refs, w)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// writeOCIArchive writes an OCI image layout as a tar: each blob once, an
// index naming each image by its reference (the annotations containerd and
// the OCI spec read).
func writeOCIArchive(w io.Writer, images []saved) error {
	tw := tar.NewWriter(w)
	put := func(name string, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	dirs := []string{"blobs/", "blobs/sha256/"}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Name: d, Mode: 0o755, Typeflag: tar.TypeDir}); err != nil {
			return err
		}
	}
	if err := put("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	written := map[string]bool{}
	blob := func(h v1.Hash, size int64, open func() (io.ReadCloser, error)) error {
		if written[h.String()] {
			return nil
		}
		written[h.String()] = true
		rc, err := open()
		if err != nil {
			return err
		}
		defer rc.Close()
		if err := tw.WriteHeader(&tar.Header{Name: "blobs/" + h.Algorithm + "/" + h.Hex, Mode: 0o644, Size: size, Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		n, err := io.Copy(tw, rc)
		if err == nil && n != size {
			err = fmt.Errorf("blob %s: %d bytes, want %d", h, n, size)
		}
		return err
	}
	type descriptor struct {
		MediaType   string            `json:"mediaType"`
		Digest      string            `json:"digest"`
		Size        int64             `json:"size"`
		Annotations map[string]string `json:"annotations,omitempty"`
	}
	var manifests []descriptor
	for _, im := range images {
		raw, err := im.img.RawManifest()
		if err != nil {
			return err
		}
		mt, err := im.img.MediaType()
		if err != nil {
			return err
		}
		mdig, err := im.img.Digest()
		if err != nil {
			return err
		}
		cfg, err := im.img.RawConfigFile()
		if err != nil {
			return err
		}
		cfgName, err := im.img.ConfigName()
		if err != nil {
			return err
		}
		bytesOf := func(b []byte) func() (io.ReadCloser, error) {
			return func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
		}
		if err := blob(mdig, int64(len(raw)), bytesOf(raw)); err != nil {
			return err
		}
		if err := blob(cfgName, int64(len(cfg)), bytesOf(cfg)); err != nil {
			return err
		}
		layers, err := im.img.Layers()
		if err != nil {
			return err
		}
		for _, l := range layers {
			d, err := l.Digest()
			if err != nil {
				return err
			}
			size, err := l.Size()
			if err != nil {
				return err
			}
			if err := blob(d, size, l.Compressed); err != nil {
				return err
			}
		}
		desc := descriptor{MediaType: string(mt), Digest: mdig.String(), Size: int64(len(raw))}
		if im.name != "" {
			ref, err := ParseReference(im.name)
			if err != nil {
				return err
			}
			desc.Annotations = map[string]string{
				"io.containerd.image.name":          ref.String(),
				"org.opencontainers.image.ref.name": ref.Tag,
			}
		}
		manifests = append(manifests, desc)
	}
	index, err := json.Marshal(map[string]any{
		"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests,
	})
	if err != nil {
		return err
	}
	if err := put("index.json", index); err != nil {
		return err
	}
	return tw.Close()
}
