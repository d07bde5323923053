// Package image pulls images from registries, stores their blobs and
// unpacked layers, and keeps their metadata.
package image

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// defaultDomain is the registry of references that name none.
const defaultDomain = "docker.io"

// pathComponent is one component of a repository path (distribution's grammar).
var pathComponent = regexp.MustCompile(`^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$`)

// Reference is a normalised image reference: a domain, a repository path
// and either a tag or a digest.
type Reference struct {
	Domain string
	Path   string
	Tag    string
	Digest digest.Digest
}

// ParseReference normalises a user's image reference the way docker does:
// "busybox" is docker.io/library/busybox:latest.
func ParseReference(s string) (Reference, error) {
	if s == "" {
		return Reference{}, errdefs.InvalidArgument("image reference is empty")
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\n") {
		return Reference{}, errdefs.InvalidArgument("image reference %q contains whitespace", s)
	}
	var r Reference
	rest := s
	if i := strings.Index(rest, "@"); i >= 0 {
		d, err := digest.Parse(rest[i+1:])
		if err != nil {
			return Reference{}, errdefs.InvalidArgument("image reference %q: bad digest: %v", s, err)
		}
		r.Digest, rest = d, rest[:i]
	}
	if i := strings.LastIndex(rest, ":"); i > strings.LastIndex(rest, "/") {
		r.Tag, rest = rest[i+1:], rest[:i]
		if r.Tag == "" {
			return Reference{}, errdefs.InvalidArgument("image reference %q has an empty tag", s)
		}
	}
	r.Domain, r.Path = splitDomain(rest)
	for _, c := range strings.Split(r.Path, "/") {
		if !pathComponent.MatchString(c) {
			return Reference{}, errdefs.InvalidArgument("image reference %q: bad repository component %q", s, c)
		}
	}
	if r.Digest != "" {
		r.Tag = ""
	} else if r.Tag == "" {
		r.Tag = "latest"
	}
	if _, err := name.ParseReference(r.String(), name.StrictValidation); err != nil {
		return Reference{}, errdefs.InvalidArgument("image reference %q is malformed: %v", s, err)
	}
	return r, nil
}

func splitDomain(s string) (domain, path string) {
	i := strings.Index(s, "/")
	if i < 0 || !looksLikeDomain(s[:i]) {
		domain, path = defaultDomain, s
	} else {
		domain, path = s[:i], s[i+1:]
	}
	if domain == "index.docker.io" || domain == "registry-1.docker.io" {
		domain = defaultDomain
	}
	if domain == defaultDomain && !strings.Contains(path, "/") {
		path = "library/" + path
	}
	return domain, path
}

func looksLikeDomain(s string) bool {
	return strings.ContainsAny(s, ".:") || s == "localhost"
}

// Repository is domain/path.
func (r Reference) Repository() string { return r.Domain + "/" + r.Path }

// String is the full normalised reference.
func (r Reference) String() string {
	if r.Digest != "" {
		return r.Repository() + "@" + r.Digest.String()
	}
	return r.Repository() + ":" + r.Tag
}

// WithDigest is the repository at digest d (a "repo digest").
func (r Reference) WithDigest(d digest.Digest) Reference {
	return Reference{Domain: r.Domain, Path: r.Path, Digest: d}
}

// Short is the reference as users write it: docker.io/library/ dropped.
func (r Reference) Short() string {
	s := r.String()
	s = strings.TrimPrefix(s, defaultDomain+"/library/")
	return strings.TrimPrefix(s, defaultDomain+"/")
}

// ID is an image ID: the digest of the image's config blob.
type ID digest.Digest

// String is the "sha256:..." form.
func (id ID) String() string { return string(id) }

// Hex is the hex part of the ID.
func (id ID) Hex() string { return digest.Digest(id).Encoded() }

// parseID accepts "sha256:<64 hex>" or a bare 64-hex ID.
func parseID(s string) (ID, bool) {
	if !strings.Contains(s, ":") {
		s = "sha256:" + s
	}
	d, err := digest.Parse(s)
	if err != nil || d.Algorithm() != digest.SHA256 {
		return "", false
	}
	return ID(d), true
}

func (r Reference) GoString() string { return fmt.Sprintf("image.Reference(%q)", r.String()) }
