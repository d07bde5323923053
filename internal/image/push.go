package image

import (
	"context"
	"fmt"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Push uploads the stored image spec to the registry of target (a tag
// reference; mirrors are for pulls only), streaming its blobs from the
// content store; blobs the registry has already are not sent. Progress
// (bytes sent of the total) goes to progress when it is not nil. It
// returns the manifest digest the registry now holds.
func (s *Service) Push(ctx context.Context, spec, target string, creds *Credentials, progress chan<- v1.Update) (string, error) {
	ref, err := ParseReference(target)
	if err != nil {
		return "", errdefs.InvalidArgument("target %q: %v", target, err)
	}
	if ref.Digest != "" {
		return "", errdefs.InvalidArgument("target %q: push to a tag, not a digest", target)
	}
	img, _, release, err := s.Image(spec)
	if err != nil {
		return "", err
	}
	defer release()
	ep := s.registries.pushEndpoint(ref)
	repo, err := ep.repository(ref)
	if err != nil {
		return "", errdefs.InvalidArgument("target %s: %v", ref, err)
	}
	auth, err := s.registries.authenticator(ep.host, creds)
	if err != nil {
		return "", err
	}
	tr, err := s.registries.transport(ep.host)
	if err != nil {
		return "", err
	}
	opts := []remote.Option{remote.WithAuth(auth), remote.WithTransport(tr), remote.WithContext(ctx), remote.WithUserAgent(userAgent)}
	if progress != nil {
		opts = append(opts, remote.WithProgress(progress))
	}
	if err := remote.Write(repo.Tag(ref.Tag), img, opts...); err != nil {
		return "", classify(fmt.Errorf("push %s: %w", ref, err), ep.host)
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}
