package image

import (
	"fmt"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/store"
)

// Tag gives the image source another name, target (a tag reference). A
// tag that named another image moves to this one.
func (s *Service) Tag(source, target string) (*Record, error) {
	ref, err := ParseReference(target)
	if err != nil {
		return nil, errdefs.InvalidArgument("target %q: %v", target, err)
	}
	if ref.Digest != "" {
		return nil, errdefs.InvalidArgument("target %q: a tag cannot be a digest", target)
	}
	rec, err := s.Get(source)
	if err != nil {
		return nil, err
	}
	tagged := rec.clone()
	tagged.RepoTags, tagged.RepoDigests = []string{ref.String()}, nil
	return s.commit(ref, tagged)
}

// Untag removes one tag of an image, as `docker rmi TAG` does while the
// image has other names; the image stays (with no tag, by its ID, when it
// was the last). It reports the image.
func (s *Service) Untag(tag string) (*Record, error) {
	ref, err := ParseReference(tag)
	if err != nil {
		return nil, errdefs.InvalidArgument("tag %q: %v", tag, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ok := s.refs[ref.String()]
	if !ok || ref.Digest != "" {
		return nil, errdefs.NotFound("no image is tagged %s", tag)
	}
	next := s.images[id].clone()
	next.RepoTags = without(next.RepoTags, ref.String())
	if err := s.db.Update(func(tx *store.Tx) error { return tx.Put(store.Images, id.String(), next) }); err != nil {
		return nil, fmt.Errorf("untag %s: %w", tag, err)
	}
	delete(s.refs, ref.String())
	s.images[id] = next
	s.usage.invalidate()
	return next.clone(), nil
}
