package image

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"

	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// contentStore keeps blobs (manifests, configs, compressed layers) addressed
// by their digest. A blob becomes visible only once written whole and
// verified; partial writes live in ingest/ and are removed on failure.
type contentStore struct{ dir string }

// newContentStore opens the store at dir, creating it and clearing any
// ingest left by a crash.
func newContentStore(dir string) (*contentStore, error) {
	c := &contentStore{dir: dir}
	if err := os.RemoveAll(c.ingestDir()); err != nil {
		return nil, fmt.Errorf("clear ingest: %w", err)
	}
	for _, d := range []string{c.ingestDir(), filepath.Join(dir, "blobs", "sha256")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	return c, nil
}

func (c *contentStore) ingestDir() string { return filepath.Join(c.dir, "ingest") }

// Path is where blob d lives.
func (c *contentStore) Path(d digest.Digest) string {
	return filepath.Join(c.dir, "blobs", string(d.Algorithm()), d.Encoded())
}

// Has reports whether blob d is stored.
func (c *contentStore) Has(d digest.Digest) bool {
	_, err := os.Stat(c.Path(d))
	return err == nil
}

// Read returns the whole of a (small) blob.
func (c *contentStore) Read(d digest.Digest) ([]byte, error) {
	if err := d.Validate(); err != nil {
		return nil, errdefs.InvalidArgument("digest %q: %v", d, err)
	}
	data, err := os.ReadFile(c.Path(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.NotFound("blob %s", d)
	}
	return data, err
}

// Open opens blob d for reading.
func (c *contentStore) Open(d digest.Digest) (*os.File, error) {
	f, err := os.Open(c.Path(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errdefs.NotFound("blob %s", d)
	}
	return f, err
}

// Put stores data, which must have digest d.
func (c *contentStore) Put(d digest.Digest, data []byte) error {
	w, err := c.NewWriter(d)
	if err != nil {
		return err
	}
	if _, err := w.Write(data); err != nil {
		w.Abort()
		return err
	}
	return w.Commit()
}

// Remove deletes blob d; a missing blob is not an error.
func (c *contentStore) Remove(d digest.Digest) error {
	err := os.Remove(c.Path(d))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// Digests lists every stored blob.
func (c *contentStore) Digests() ([]digest.Digest, error) {
	entries, err := os.ReadDir(filepath.Join(c.dir, "blobs", "sha256"))
	if err != nil {
		return nil, err
	}
	out := make([]digest.Digest, 0, len(entries))
	for _, e := range entries {
		out = append(out, digest.NewDigestFromEncoded(digest.SHA256, e.Name()))
	}
	return out, nil
}

// blobWriter writes one blob into ingest and moves it into place on Commit.
type blobWriter struct {
	store    *contentStore
	expected digest.Digest
	file     *os.File
	hash     hash.Hash // nil: the source checks the digest
	size     int64
}

// NewWriter starts writing a blob that must hash to expected.
func (c *contentStore) NewWriter(expected digest.Digest) (*blobWriter, error) {
	if err := expected.Validate(); err != nil {
		return nil, errdefs.InvalidArgument("digest %q: %v", expected, err)
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	f, err := os.OpenFile(filepath.Join(c.ingestDir(), expected.Encoded()+"-"+hex.EncodeToString(rnd[:])),
		os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ingest %s: %w", expected, err)
	}
	return &blobWriter{store: c, expected: expected, file: f, hash: expected.Algorithm().Hash()}, nil
}

// NewCheckedWriter starts writing a blob whose source checks it: a reader
// that fails at its end unless what it gave hashes to expected
// (go-containerregistry's remote layers do). The writer does not hash it
// a second time; Commit must come only after that reader's clean end.
func (c *contentStore) NewCheckedWriter(expected digest.Digest) (*blobWriter, error) {
	w, err := c.NewWriter(expected)
	if err == nil {
		w.hash = nil
	}
	return w, err
}

// Write appends to the blob.
func (w *blobWriter) Write(p []byte) (int, error) {
	n, err := w.file.Write(p)
	if w.hash != nil {
		w.hash.Write(p[:n])
	}
	w.size += int64(n)
	return n, err
}

// Size is the number of bytes written so far.
func (w *blobWriter) Size() int64 { return w.size }

// digest is what was written, as hashed here or as the source checked it.
func (w *blobWriter) digest() digest.Digest {
	if w.hash == nil {
		return w.expected
	}
	return digest.NewDigest(w.expected.Algorithm(), w.hash)
}

// Commit verifies the digest, syncs and publishes the blob. On any error the
// partial blob is removed.
func (w *blobWriter) Commit() error {
	if got := w.digest(); got != w.expected {
		w.Abort()
		return fmt.Errorf("blob digest mismatch: expected %s, got %s: %w", w.expected, got, errdefs.ErrDataLoss)
	}
	if err := w.file.Sync(); err != nil {
		w.Abort()
		return fmt.Errorf("sync blob %s: %w", w.expected, err)
	}
	tmp := w.file.Name()
	if err := w.file.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, w.store.Path(w.expected)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("commit blob %s: %w", w.expected, err)
	}
	return nil
}

// Abort discards the partial blob.
func (w *blobWriter) Abort() {
	w.file.Close()
	os.Remove(w.file.Name())
}

var _ io.Writer = (*blobWriter)(nil)
