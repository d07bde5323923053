package image

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	digest "github.com/opencontainers/go-digest"
)

// gzipTar is a one-file layer: its blob and its diff ID.
func gzipTar(t *testing.T, file, body string) ([]byte, digest.Digest) {
	t.Helper()
	var raw bytes.Buffer
	tw := tar.NewWriter(&raw)
	tw.WriteHeader(&tar.Header{Name: file, Typeflag: tar.TypeReg, Mode: 0o644, Size: int64(len(body))})
	tw.Write([]byte(body))
	tw.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(raw.Bytes())
	zw.Close()
	return gz.Bytes(), digest.FromBytes(raw.Bytes())
}

// A registry layer's blob is hashed once, by go-containerregistry's
// reader, not again by the content store. A registry that answers with
// another valid layer (good gzip, good tar, right diff ID for what it
// sent) is still refused, and nothing of it is kept; the right blob goes
// in.
func TestRegistryLayerIsCheckedOnce(t *testing.T) {
	asked, _ := gzipTar(t, "asked", "the layer the manifest names")
	other, otherDiff := gzipTar(t, "other", "another layer entirely")
	askedDigest := digest.FromBytes(asked)
	upload := func(reg *httptest.Server, blob []byte) {
		t.Helper()
		loc := strings.TrimPrefix(reg.URL, "http://")
		resp, err := http.Post(reg.URL+"/v2/l/blobs/uploads/?digest="+digest.FromBytes(blob).String(), "application/octet-stream", bytes.NewReader(blob))
		if err != nil || resp.StatusCode != http.StatusCreated {
			t.Fatalf("upload to %s: %v %v", loc, err, resp)
		}
		resp.Body.Close()
	}
	reg := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	defer reg.Close()
	upload(reg, asked)
	upload(reg, other)
	// The swap: what is asked for by digest comes back as the other blob.
	swapped := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.URL.Path = strings.Replace(r.URL.Path, askedDigest.String(), digest.FromBytes(other).String(), 1)
		resp, err := http.Get(reg.URL + r.URL.Path)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		buf := new(bytes.Buffer)
		buf.ReadFrom(resp.Body)
		w.Write(buf.Bytes())
	}))
	defer swapped.Close()

	fetch := func(srv *httptest.Server) *blobSource {
		t.Helper()
		ref, err := name.NewDigest(strings.TrimPrefix(srv.URL, "http://")+"/l@"+askedDigest.String(), name.Insecure)
		if err != nil {
			t.Fatal(err)
		}
		l, err := remote.Layer(ref)
		if err != nil {
			t.Fatal(err)
		}
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { rc.Close() })
		return &blobSource{r: rc}
	}

	s := newTestService(t)
	wrong := Layer{Digest: askedDigest, DiffID: otherDiff, ChainID: otherDiff, Size: int64(len(other))}
	if err := s.unpackLayer(fetch(swapped), wrong, true); err == nil {
		t.Fatal("a swapped blob was taken for the layer the manifest names")
	}
	if s.content.Has(askedDigest) || s.layers.Has(wrong.ChainID) {
		t.Fatal("the swapped blob or its layer was kept")
	}

	_, askedDiff := gzipTar(t, "asked", "the layer the manifest names")
	right := Layer{Digest: askedDigest, DiffID: askedDiff, ChainID: askedDiff, Size: int64(len(asked))}
	if err := s.unpackLayer(fetch(reg), right, true); err != nil {
		t.Fatal(err)
	}
	stored, err := s.content.Read(askedDigest)
	if err != nil || sha256.Sum256(stored) != sha256.Sum256(asked) || !s.layers.Has(right.ChainID) {
		t.Fatalf("the right blob: stored %d bytes (%v), layer kept %v", len(stored), err, s.layers.Has(right.ChainID))
	}
}
