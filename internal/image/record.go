package image

import (
	"strconv"
	"strings"
	"time"

	digest "github.com/opencontainers/go-digest"
)

// Record is an image as berth stores it.
type Record struct {
	ID          ID            `json:"id"`
	RepoTags    []string      `json:"repoTags,omitempty"`
	RepoDigests []string      `json:"repoDigests,omitempty"`
	Size        uint64        `json:"size"`
	Index       digest.Digest `json:"index,omitempty"` // the index the manifest was chosen from
	Manifest    digest.Digest `json:"manifest"`
	Config      digest.Digest `json:"config"`
	Layers      []Layer       `json:"layers"`
	User        string        `json:"user,omitempty"`
	Pinned      bool          `json:"pinned,omitempty"`
	Pulled      time.Time     `json:"pulled"`
}

// Layer is one layer of an image.
type Layer struct {
	Digest    digest.Digest `json:"digest"` // of the blob as fetched (compressed)
	DiffID    digest.Digest `json:"diffID"` // of the uncompressed tar
	ChainID   digest.Digest `json:"chainID"`
	Size      int64         `json:"size"`
	MediaType string        `json:"mediaType"`
}

// ChainIDs lists the chain IDs of the image's layers, bottom first.
func (r *Record) ChainIDs() []digest.Digest {
	out := make([]digest.Digest, len(r.Layers))
	for i, l := range r.Layers {
		out[i] = l.ChainID
	}
	return out
}

// Blobs lists every blob the image needs.
func (r *Record) Blobs() []digest.Digest {
	out := []digest.Digest{r.Manifest, r.Config}
	if r.Index != "" {
		out = append(out, r.Index)
	}
	for _, l := range r.Layers {
		out = append(out, l.Digest)
	}
	return out
}

// UID returns the numeric user of the image config, or ok=false when the
// user is a name (or empty, which means root: uid 0).
func (r *Record) UID() (uid int64, name string, ok bool) {
	user := strings.SplitN(r.User, ":", 2)[0]
	if user == "" {
		return 0, "", true
	}
	if n, err := strconv.ParseInt(user, 10, 64); err == nil {
		return n, "", true
	}
	return 0, user, false
}

func (r *Record) clone() *Record {
	c := *r
	c.RepoTags = append([]string(nil), r.RepoTags...)
	c.RepoDigests = append([]string(nil), r.RepoDigests...)
	c.Layers = append([]Layer(nil), r.Layers...)
	return &c
}

func addUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

func without(list []string, s string) []string {
	out := list[:0:0]
	for _, x := range list {
		if x != s {
			out = append(out, x)
		}
	}
	return out
}
