package image

import (
	"fmt"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/layerstore"
)

// recordFor describes an image from its manifest and config: ID, blobs and
// layers, as berth records it.
func recordFor(img v1.Image) (*Record, error) {
	manifest, err := img.Manifest()
	if err != nil {
		return nil, err
	}
	mdig, err := img.Digest()
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	if len(cfg.RootFS.DiffIDs) != len(manifest.Layers) {
		return nil, fmt.Errorf("config lists %d layers, manifest %d: %w", len(cfg.RootFS.DiffIDs), len(manifest.Layers), errdefs.ErrDataLoss)
	}
	rec := &Record{
		ID:       ID(manifest.Config.Digest.String()),
		Manifest: digest.Digest(mdig.String()),
		Config:   digest.Digest(manifest.Config.Digest.String()),
		User:     cfg.Config.User,
		Size:     uint64(manifest.Config.Size),
		Pulled:   time.Now().UTC(),
	}
	diffIDs := make([]digest.Digest, len(cfg.RootFS.DiffIDs))
	for i, d := range cfg.RootFS.DiffIDs {
		diffIDs[i] = digest.Digest(d.String())
	}
	for i, chain := range layerstore.ChainIDs(diffIDs) {
		l := manifest.Layers[i]
		rec.Layers = append(rec.Layers, Layer{
			Digest: digest.Digest(l.Digest.String()), DiffID: diffIDs[i], ChainID: chain,
			Size: l.Size, MediaType: string(l.MediaType),
		})
		rec.Size += uint64(l.Size)
	}
	for _, l := range rec.Layers {
		if err := l.Digest.Validate(); err != nil {
			return nil, errdefs.InvalidArgument("layer digest %q: %v", l.Digest, err)
		}
	}
	return rec, nil
}

// importImage stores an image from an archive under tags (references):
// its manifest and config, each missing layer streamed into the content
// store and unpacked in one pass (digests checked as for a pull). A failed
// import leaves no image and no partial blob.
func (s *Service) importImage(img v1.Image, tags []Reference) (*Record, error) {
	rec, err := recordFor(img)
	if err != nil {
		return nil, err
	}
	for _, t := range tags {
		rec.RepoTags = addUnique(rec.RepoTags, t.String())
	}
	release := s.protect(rec)
	defer release()
	raw, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	if err := s.content.Put(rec.Manifest, raw); err != nil {
		return nil, fmt.Errorf("store manifest: %w", err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	if err := s.content.Put(rec.Config, rawCfg); err != nil {
		return nil, fmt.Errorf("store config: %w", err)
	}
	for _, l := range rec.Layers {
		if s.layers.Has(l.ChainID) && s.content.Has(l.Digest) {
			continue
		}
		h, err := v1.NewHash(l.Digest.String())
		if err != nil {
			return nil, err
		}
		layer, err := img.LayerByDigest(h)
		if err != nil {
			return nil, err
		}
		blob, err := layer.Compressed()
		if err != nil {
			return nil, fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		err = s.unpackLayer(blob, l, false)
		blob.Close()
		if err != nil {
			return nil, err
		}
	}
	name := Reference{Path: rec.ID.String()}
	if len(tags) > 0 {
		name = tags[0]
	}
	return s.commit(name, rec)
}
