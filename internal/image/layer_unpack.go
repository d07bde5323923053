package image

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	digest "github.com/opencontainers/go-digest"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/layerstore"
)

var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// unpackLayer streams a layer blob into the content store and, in the same
// pass, decompresses and unpacks it into the layer store. The layer and the
// blob become visible only if both digests match. checked says that blob
// fails at its end unless it has l.Digest (a registry layer: go-containerregistry
// hashes it as it comes), so it is not hashed twice.
func (s *Service) unpackLayer(blob io.Reader, l Layer, checked bool) error {
	return classifyUnpack(s.storeAndUnpack(blob, l, checked), l.Digest)
}

func (s *Service) storeAndUnpack(blob io.Reader, l Layer, checked bool) (err error) {
	newWriter := s.content.NewWriter
	if checked {
		newWriter = s.content.NewCheckedWriter
	}
	w, err := newWriter(l.Digest)
	if err != nil {
		return err
	}
	committed := false
	defer func() {
		if !committed {
			w.Abort()
		}
	}()
	compressed := io.TeeReader(blob, w)
	return s.layers.Create(l.ChainID, func(fsDir string) error {
		tarStream, closeFn, err := decompress(compressed)
		if err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		defer closeFn()
		diff := sha256.New()
		tee := io.TeeReader(tarStream, diff)
		if err := layerstore.Unpack(tee, fsDir); err != nil {
			return fmt.Errorf("unpack layer %s: %w", l.Digest, err)
		}
		// The tar reader stops at the end marker: hash what follows it too,
		// and read the compressed stream to its end for the blob digest.
		if _, err := io.Copy(io.Discard, tee); err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		if _, err := io.Copy(io.Discard, compressed); err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		if got := digest.NewDigest(digest.SHA256, diff); got != l.DiffID {
			return fmt.Errorf("layer %s: uncompressed digest %s, config says %s: %w", l.Digest, got, l.DiffID, errdefs.ErrDataLoss)
		}
		if err := w.Commit(); err != nil {
			return fmt.Errorf("layer %s: %w", l.Digest, err)
		}
		committed = true
		return nil
	})
}

// decompress detects gzip, zstd or a plain tar by its first bytes.
func decompress(r io.Reader) (io.Reader, func(), error) {
	br := bufio.NewReaderSize(r, 64<<10)
	head, err := br.Peek(4)
	if err != nil && err != io.EOF {
		return nil, nil, err
	}
	switch {
	case bytes.HasPrefix(head, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, err
		}
		zr.Multistream(true)
		return zr, func() { zr.Close() }, nil
	case bytes.HasPrefix(head, zstdMagic):
		zr, err := zstd.NewReader(br, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true))
		if err != nil {
			return nil, nil, err
		}
		return zr, zr.Close, nil
	default:
		return br, func() {}, nil
	}
}
