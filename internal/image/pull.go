package image

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"
	"golang.org/x/sync/errgroup"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// userAgent is sent to registries.
var userAgent = "berth"

// Pull fetches ref (with creds, if any) and records it. Concurrent pulls of
// the same reference share one download. A failed or cancelled pull leaves
// no image, no partial layer and no partial blob.
func (s *Service) Pull(ctx context.Context, ref Reference, creds *Credentials) (*Record, error) {
	v, err := s.pulls.Do(ctx, ref.String(), func(ctx context.Context) (any, error) {
		rec, err := s.pull(ctx, ref, creds)
		final := ProgressEvent{Finished: true}
		if err != nil {
			final.Err = err.Error()
		}
		s.progress.publish(ref.String(), final)
		return rec, err
	})
	if err != nil {
		return nil, err
	}
	return v.(*Record).clone(), nil
}

func (s *Service) pull(ctx context.Context, ref Reference, creds *Credentials) (*Record, error) {
	start := time.Now()
	var err error
	for _, ep := range s.registries.endpoints(ref) {
		var rec *Record
		rec, err = s.pullFrom(ctx, ep, ref, creds)
		if err == nil {
			slog.Info("pulled image", "ref", ref.String(), "from", ep.host, "id", rec.ID, "took", time.Since(start))
			return rec, nil
		}
		if !ep.mirror || ctx.Err() != nil {
			break
		}
		slog.Warn("mirror failed, trying the next endpoint", "ref", ref.String(), "mirror", ep.host, "err", err)
	}
	// Layers this pull completed before failing belong to no image.
	s.mu.Lock()
	s.collectGarbage()
	s.mu.Unlock()
	return nil, fmt.Errorf("pull %s: %w", ref, err)
}

// pullFrom pulls ref from one endpoint.
func (s *Service) pullFrom(ctx context.Context, ep endpoint, ref Reference, creds *Credentials) (*Record, error) {
	puller, target, err := s.newPuller(ep, ref, creds)
	if err != nil {
		return nil, err
	}
	desc, err := puller.Get(ctx, target)
	if err != nil {
		return nil, classify(err, ep.host)
	}
	img, err := desc.Image()
	if err != nil {
		return nil, classify(err, ep.host)
	}
	rec, err := s.describe(ref, desc, img)
	if err != nil {
		return nil, classify(err, ep.host)
	}
	release := s.protect(rec)
	defer release()
	if err := s.storeMetadataBlobs(desc, img, rec); err != nil {
		return nil, err
	}
	repo := target.Context()
	if err := s.fetchLayers(ctx, puller, repo, ref.String(), rec.Layers); err != nil {
		return nil, classify(err, ep.host)
	}
	return s.commit(ref, rec)
}

func (s *Service) newPuller(ep endpoint, ref Reference, creds *Credentials) (*remote.Puller, name.Reference, error) {
	repo, err := ep.repository(ref)
	if err != nil {
		return nil, nil, errdefs.InvalidArgument("image %s on %s: %v", ref, ep.host, err)
	}
	var target name.Reference = repo.Tag(ref.Tag)
	if ref.Digest != "" {
		target = repo.Digest(ref.Digest.String())
	}
	auth, err := s.registries.authenticator(ep.host, creds)
	if err != nil {
		return nil, nil, err
	}
	tr, err := s.registries.transport(ep.host)
	if err != nil {
		return nil, nil, err
	}
	puller, err := remote.NewPuller(
		remote.WithAuth(auth), remote.WithTransport(tr), remote.WithPlatform(hostPlatform()),
		remote.WithUserAgent(userAgent),
		remote.WithRetryBackoff(remote.Backoff{Duration: 200 * time.Millisecond, Factor: 2, Jitter: 0.1, Steps: 2}),
	)
	return puller, target, err
}

func hostPlatform() v1.Platform {
	p := v1.Platform{OS: "linux", Architecture: runtime.GOARCH}
	if runtime.GOARCH == "arm64" {
		p.Variant = "v8"
	}
	return p
}

// describe builds the image record from the manifest and config.
func (s *Service) describe(ref Reference, desc *remote.Descriptor, img v1.Image) (*Record, error) {
	rec, err := recordFor(img)
	if errdefs.Is(err, errdefs.ErrDataLoss) {
		return nil, fmt.Errorf("image %s: %w", ref, err)
	}
	if err != nil {
		return nil, err
	}
	if desc.MediaType.IsIndex() {
		rec.Index = digest.Digest(desc.Digest.String())
	}
	tagOrDigest := ref
	if ref.Digest == "" {
		rec.RepoTags = []string{ref.String()}
	}
	repoDigest := desc.Digest.String()
	rec.RepoDigests = []string{tagOrDigest.WithDigest(digest.Digest(repoDigest)).String()}
	return rec, nil
}

// storeMetadataBlobs keeps the index, manifest and config in the content store.
func (s *Service) storeMetadataBlobs(desc *remote.Descriptor, img v1.Image, rec *Record) error {
	if rec.Index != "" {
		if err := s.content.Put(rec.Index, desc.Manifest); err != nil {
			return fmt.Errorf("store index: %w", err)
		}
	}
	raw, err := img.RawManifest()
	if err != nil {
		return err
	}
	if err := s.content.Put(rec.Manifest, raw); err != nil {
		return fmt.Errorf("store manifest: %w", err)
	}
	rawCfg, err := img.RawConfigFile()
	if err != nil {
		return err
	}
	if err := s.content.Put(rec.Config, rawCfg); err != nil {
		return fmt.Errorf("store config: %w", err)
	}
	return nil
}

// fetchLayers downloads and unpacks the missing layers, a bounded number at
// once. A layer shared with a concurrent pull is fetched once.
func (s *Service) fetchLayers(ctx context.Context, puller *remote.Puller, repo name.Repository, ref string, layers []Layer) error {
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.jobs)
	for _, l := range layers {
		ev := ProgressEvent{Layer: l.Digest, Total: l.Size, Current: l.Size, Done: true}
		if s.layers.Has(l.ChainID) && s.content.Has(l.Digest) {
			ev.Cached = true
			s.progress.publish(ref, ev)
			continue
		}
		g.Go(func() error {
			_, err := s.layerPulls.Do(gctx, l.ChainID.String(), func(ctx context.Context) (any, error) {
				if s.layers.Has(l.ChainID) && s.content.Has(l.Digest) {
					return nil, nil
				}
				return nil, s.fetchLayer(ctx, puller, repo, ref, l)
			})
			if err == nil {
				s.progress.publish(ref, ev)
			}
			return err
		})
	}
	return g.Wait()
}

// layerAttempts bounds the downloads of one layer whose connection was
// reset, cut or stalled.
const layerAttempts = 3

// fetchLayer downloads and unpacks one layer, again after a pause (250 ms,
// then 500 ms) when the network failed it; corrupt content, a full disk or
// an unsafe entry are not retried.
func (s *Service) fetchLayer(ctx context.Context, puller *remote.Puller, repo name.Repository, ref string, l Layer) error {
	var err error
	for attempt := 1; attempt <= layerAttempts; attempt++ {
		if attempt > 1 {
			slog.Warn("layer download failed, retrying", "ref", ref, "layer", l.Digest, "attempt", attempt, "err", err)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(time.Duration(250<<(attempt-2)) * time.Millisecond):
			}
		}
		err = s.fetchLayerOnce(ctx, puller, repo, ref, l)
		if err == nil || ctx.Err() != nil || !errdefs.Is(err, errdefs.ErrUnavailable) {
			return err
		}
	}
	return err
}

func (s *Service) fetchLayerOnce(ctx context.Context, puller *remote.Puller, repo name.Repository, ref string, l Layer) error {
	host := repo.RegistryStr()
	remoteLayer, err := puller.Layer(ctx, repo.Digest(l.Digest.String()))
	if err != nil {
		return classify(err, host)
	}
	blob, err := remoteLayer.Compressed()
	if err != nil {
		return classify(err, host)
	}
	defer blob.Close()
	src := &blobSource{r: blob}
	counted := &progressReader{r: src, hub: &s.progress, ref: ref, ev: ProgressEvent{Layer: l.Digest, Total: l.Size}}
	err = s.unpackLayer(counted, l, true) // Compressed() checks the digest at the end
	if err == nil {
		return nil
	}
	if ferr := src.failure(host, l.Digest); ferr != nil && ctx.Err() == nil {
		return ferr // the network failed, not the content
	}
	return err
}
