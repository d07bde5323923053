package image

import (
	"encoding/json"
	"fmt"
	"io"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/partial"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// storedImage is an image of the store as go-containerregistry sees one:
// its manifest and config as stored, its layers streamed from the content
// store as they were pulled (compressed, digests unchanged).
type storedImage struct {
	s        *Service
	rec      *Record
	manifest []byte
	config   []byte
}

// Image opens a stored image for saving or pushing. The caller holds
// release until it is done with it: the image's blobs are kept meanwhile
// even if the image is removed.
func (s *Service) Image(spec string) (img v1.Image, rec *Record, release func(), err error) {
	rec, err = s.Get(spec)
	if err != nil {
		return nil, nil, nil, err
	}
	release = s.protect(rec)
	defer func() {
		if err != nil {
			release()
		}
	}()
	si := &storedImage{s: s, rec: rec}
	if si.manifest, err = s.content.Read(rec.Manifest); err != nil {
		return nil, nil, nil, fmt.Errorf("image %s: manifest: %w", rec.ID, err)
	}
	if si.config, err = s.content.Read(rec.Config); err != nil {
		return nil, nil, nil, fmt.Errorf("image %s: config: %w", rec.ID, err)
	}
	img, err = partial.CompressedToImage(si)
	return img, rec, release, err
}

func (i *storedImage) RawManifest() ([]byte, error)   { return i.manifest, nil }
func (i *storedImage) RawConfigFile() ([]byte, error) { return i.config, nil }

func (i *storedImage) MediaType() (types.MediaType, error) {
	var m struct {
		MediaType types.MediaType `json:"mediaType"`
	}
	if err := json.Unmarshal(i.manifest, &m); err != nil {
		return "", err
	}
	if m.MediaType == "" {
		return types.OCIManifestSchema1, nil
	}
	return m.MediaType, nil
}

func (i *storedImage) LayerByDigest(h v1.Hash) (partial.CompressedLayer, error) {
	for _, l := range i.rec.Layers {
		if l.Digest.String() == h.String() {
			return &storedLayer{s: i.s, l: l}, nil
		}
	}
	if h.String() == i.rec.Config.String() {
		return partial.ConfigLayer(i)
	}
	return nil, fmt.Errorf("image %s has no blob %s", i.rec.ID, h)
}

// storedLayer is a layer blob of the content store.
type storedLayer struct {
	s *Service
	l Layer
}

func (l *storedLayer) Digest() (v1.Hash, error) { return v1.NewHash(l.l.Digest.String()) }
func (l *storedLayer) Size() (int64, error)     { return l.l.Size, nil }
func (l *storedLayer) MediaType() (types.MediaType, error) {
	return types.MediaType(l.l.MediaType), nil
}
func (l *storedLayer) Compressed() (io.ReadCloser, error) { return l.s.content.Open(l.l.Digest) }
