package image

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/layerstore"
	"github.com/berth-runtime/berth/internal/store"
)

// Options configures the image service.
type Options struct {
	// Dir is the image store's root (content/ and layers/ go below it).
	Dir        string
	DB         *store.DB
	Registries *Registries
	// Jobs bounds the layers fetched at once per pull.
	Jobs int
}

// Service pulls, lists and removes images. Reads are served from memory;
// every change is written to the metadata store first.
type Service struct {
	dir        string
	content    *contentStore
	layers     *layerstore.Store
	registries *Registries
	db         *store.DB
	jobs       int
	pulls      flight
	layerPulls flight
	progress   progressHub

	mu        sync.RWMutex
	images    map[ID]*Record
	refs      map[string]ID
	protected map[digest.Digest]int // blobs and chain IDs in use by running pulls
	usage     usageCache
}

// NewService opens the image store and loads its records.
func NewService(o Options) (*Service, error) {
	content, err := newContentStore(filepath.Join(o.Dir, "content"))
	if err != nil {
		return nil, err
	}
	layers, err := layerstore.New(filepath.Join(o.Dir, "layers"))
	if err != nil {
		return nil, err
	}
	s := &Service{
		dir: o.Dir, content: content, layers: layers, registries: o.Registries, db: o.DB,
		jobs: max(o.Jobs, 1), images: map[ID]*Record{}, refs: map[string]ID{}, protected: map[digest.Digest]int{},
	}
	err = store.LoadAll(o.DB, store.Images, func(_ string, r *Record) { s.index(r) })
	if err != nil {
		return nil, err
	}
	return s, nil
}

// CollectGarbage removes the blobs and layers that no image record and no
// holder (Retain) needs: what a crash between a pull's download and its
// commit, or during a removal, left behind. berthd calls it at start-up
// once the containers have retained their layers: a container may run
// from an image that was removed.
func (s *Service) CollectGarbage() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.collectGarbage()
}

func (s *Service) index(r *Record) {
	s.images[r.ID] = r
	for _, ref := range append(append([]string(nil), r.RepoTags...), r.RepoDigests...) {
		s.refs[ref] = r.ID
	}
}

// protect keeps the record's blobs and layers from garbage collection until
// the returned function is called.
func (s *Service) protect(r *Record) func() {
	keys := append(r.Blobs(), r.ChainIDs()...)
	s.mu.Lock()
	for _, k := range keys {
		s.protected[k]++
	}
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		for _, k := range keys {
			if s.protected[k]--; s.protected[k] <= 0 {
				delete(s.protected, k)
			}
		}
		s.mu.Unlock()
	}
}

// commit records a pulled image. A tag that pointed at another image moves.
func (s *Service) commit(ref Reference, rec *Record) (*Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := rec
	if old, ok := s.images[rec.ID]; ok {
		next = old.clone()
		for _, t := range rec.RepoTags {
			next.RepoTags = addUnique(next.RepoTags, t)
		}
		for _, d := range rec.RepoDigests {
			next.RepoDigests = addUnique(next.RepoDigests, d)
		}
	}
	changed := []*Record{next}
	for _, t := range rec.RepoTags {
		if prevID, ok := s.refs[t]; ok && prevID != rec.ID {
			prev := s.images[prevID].clone()
			prev.RepoTags = without(prev.RepoTags, t)
			changed = append(changed, prev)
		}
	}
	err := s.db.Update(func(tx *store.Tx) error {
		for _, r := range changed {
			if err := tx.Put(store.Images, r.ID.String(), r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("record image %s: %w", ref, err)
	}
	for _, r := range changed {
		s.index(r)
	}
	for _, t := range rec.RepoTags {
		s.refs[t] = rec.ID
	}
	s.usage.invalidate()
	return next.clone(), nil
}

// Get finds an image by ID (full or bare hex), tag or digest reference.
func (s *Service) Get(spec string) (*Record, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	r, err := s.lookup(spec)
	if err != nil {
		return nil, err
	}
	return r.clone(), nil
}

func (s *Service) lookup(spec string) (*Record, error) {
	if spec == "" {
		return nil, errdefs.InvalidArgument("image reference is empty")
	}
	if id, ok := parseID(spec); ok {
		if r, ok := s.images[id]; ok {
			return r, nil
		}
	}
	ref, err := ParseReference(spec)
	if err != nil {
		return nil, err
	}
	if id, ok := s.refs[ref.String()]; ok {
		return s.images[id], nil
	}
	return nil, errdefs.NotFound("image %q not found", spec)
}

// List returns every image, sorted by first reference.
func (s *Service) List() []*Record {
	s.mu.RLock()
	out := make([]*Record, 0, len(s.images))
	for _, r := range s.images {
		out = append(out, r.clone())
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return sortKey(out[i]) < sortKey(out[j]) })
	return out
}

func sortKey(r *Record) string {
	if len(r.RepoTags) > 0 {
		return r.RepoTags[0]
	}
	if len(r.RepoDigests) > 0 {
		return r.RepoDigests[0]
	}
	return r.ID.String()
}

// Remove deletes the image spec names, with all its references, and frees
// the blobs and layers no other image uses. Removing a missing image is not
// an error (the CRI asks for idempotence).
func (s *Service) Remove(spec string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.lookup(spec)
	if errdefs.Is(err, errdefs.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.db.Update(func(tx *store.Tx) error { return tx.Delete(store.Images, r.ID.String()) })
	if err != nil {
		return fmt.Errorf("remove image %s: %w", r.ID, err)
	}
	delete(s.images, r.ID)
	for ref, id := range s.refs {
		if id == r.ID {
			delete(s.refs, ref)
		}
	}
	s.collectGarbage()
	return nil
}

// collectGarbage removes blobs and layers that no image and no running pull
// needs. Called with s.mu held.
func (s *Service) collectGarbage() {
	live := map[digest.Digest]bool{}
	for k := range s.protected {
		live[k] = true
	}
	for _, r := range s.images {
		for _, d := range r.Blobs() {
			live[d] = true
		}
		for _, c := range r.ChainIDs() {
			live[c] = true
		}
	}
	blobs, err := s.content.Digests()
	if err != nil {
		slog.Error("image gc: list blobs", "err", err)
	}
	for _, d := range blobs {
		if !live[d] {
			if err := s.content.Remove(d); err != nil {
				slog.Error("image gc: remove blob", "digest", d, "err", err)
			}
		}
	}
	layers, err := s.layers.List()
	if err != nil {
		slog.Error("image gc: list layers", "err", err)
	}
	for _, c := range layers {
		if !live[c] {
			if err := s.layers.Remove(c); err != nil {
				slog.Error("image gc: remove layer", "chain", c, "err", err)
			}
		}
	}
	s.usage.invalidate()
}

// Config returns the raw OCI image config of r.
func (s *Service) Config(r *Record) ([]byte, error) { return s.content.Read(r.Config) }

// LayerDirs returns the overlay lower directories of r, top layer first
// (the order overlayfs' lowerdir wants).
func (s *Service) LayerDirs(r *Record) []string {
	out := make([]string, len(r.Layers))
	for i, l := range r.Layers {
		out[len(r.Layers)-1-i] = s.layers.FSDir(l.ChainID)
	}
	return out
}

// Dir is the image store's root directory.
func (s *Service) Dir() string { return s.dir }
