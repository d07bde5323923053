// Package layerstore keeps unpacked image layers: Unpack turns a layer's
// tar stream into an overlayfs lower directory (whiteouts as overlay wants
// them, never writing outside it), and Store keeps one such directory per
// chain ID, each complete or absent. Containers' root filesystems stack
// them.
package layerstore

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	digest "github.com/opencontainers/go-digest"
)

// Store keeps unpacked layers, one directory per chain ID, each ready
// to be an overlayfs lower directory. A layer is unpacked into a temporary
// directory and renamed into place whole, so a visible layer is complete.
type Store struct{ dir string }

const layerTmpPrefix = ".tmp-"

// New opens the store at dir and removes layers left half
// unpacked by a crash.
func New(dir string) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), layerTmpPrefix) {
			if err := os.RemoveAll(filepath.Join(dir, e.Name())); err != nil {
				return nil, fmt.Errorf("remove partial layer: %w", err)
			}
		}
	}
	return &Store{dir: dir}, nil
}

// Dir is the layer's directory; its "fs" subdirectory is the lower dir.
func (s *Store) Dir(chain digest.Digest) string { return filepath.Join(s.dir, chain.Encoded()) }

// FSDir is the overlayfs lower directory of the layer.
func (s *Store) FSDir(chain digest.Digest) string { return filepath.Join(s.Dir(chain), "fs") }

// Has reports whether the layer is unpacked.
func (s *Store) Has(chain digest.Digest) bool {
	_, err := os.Stat(s.FSDir(chain))
	return err == nil
}

// Create fills a new layer with fill(fsDir) and publishes it on success;
// on failure nothing remains.
func (s *Store) Create(chain digest.Digest, fill func(fsDir string) error) (err error) {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(s.dir, layerTmpPrefix+chain.Encoded()[:12]+"-"+hex.EncodeToString(rnd[:]))
	if err := os.MkdirAll(filepath.Join(tmp, "fs"), 0o755); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(filepath.Join(tmp, "fs")); err != nil {
		return err
	}
	if err := os.Rename(tmp, s.Dir(chain)); err != nil {
		if s.Has(chain) {
			os.RemoveAll(tmp)
			return nil
		}
		return fmt.Errorf("publish layer %s: %w", chain, err)
	}
	return nil
}

// Remove deletes the layer; a missing layer is not an error.
func (s *Store) Remove(chain digest.Digest) error {
	// Rename first so that a crash mid-delete leaves a temp dir, not a
	// half-empty layer that looks complete.
	tmp := filepath.Join(s.dir, layerTmpPrefix+"rm-"+chain.Encoded())
	if err := os.Rename(s.Dir(chain), tmp); err != nil {
		if os.IsNotExist(err) {
			return nil
		}
		return err
	}
	return os.RemoveAll(tmp)
}

// List returns the chain IDs of every layer.
func (s *Store) List() ([]digest.Digest, error) {
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return nil, err
	}
	var out []digest.Digest
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), layerTmpPrefix) {
			out = append(out, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
		}
	}
	return out, nil
}

// ChainIDs computes the chain ID of each layer from the diff IDs
// (image-spec config.md: ChainID(L0|..|Ln) = SHA256(ChainID(..Ln-1) + " " + DiffID(Ln))).
func ChainIDs(diffIDs []digest.Digest) []digest.Digest {
	out := make([]digest.Digest, len(diffIDs))
	for i, d := range diffIDs {
		if i == 0 {
			out[i] = d
			continue
		}
		out[i] = digest.FromString(out[i-1].String() + " " + d.String())
	}
	return out
}
