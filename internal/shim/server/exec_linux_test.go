package server

import (
	"bytes"
	"io"
	"os"
	"runtime"
	"strings"
	"testing"
)

func TestCappedKeepsOnlyTheLimitThroughIOCopy(t *testing.T) {
	c := &capped{limit: 10}
	n, err := io.Copy(c, strings.NewReader(strings.Repeat("x", 100)))
	if err != nil || n != 100 || len(c.Bytes()) != 10 {
		t.Fatalf("copied %d (%v), kept %d bytes", n, err, len(c.Bytes()))
	}
}

// An exec's output is read from a pipe into what is kept, past the limit
// discarded, and a short output costs the shim a little garbage, not the
// 32 KB buffer io.Copy takes per stream.
func TestCappedReadsAPipeWithLittleGarbage(t *testing.T) {
	read := func(limit int, data []byte) (*capped, int64, uint64) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		go func() { w.Write(data); w.Close() }()
		defer r.Close()
		c := &capped{limit: limit}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		n, err := c.ReadFrom(r)
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatal(err)
		}
		return c, n, after.TotalAlloc - before.TotalAlloc
	}
	c, n, garbage := read(16<<20, []byte("ok\n"))
	if n != 3 || string(c.Bytes()) != "ok\n" {
		t.Fatalf("read %d, kept %q", n, c.Bytes())
	}
	if garbage > 8<<10 { // 1.5 KB here, 3 KB under -race; io.Copy: 32 KB
		t.Fatalf("reading 3 bytes allocated %d bytes", garbage)
	}
	big := bytes.Repeat([]byte("0123456789"), 20000)
	c, n, _ = read(1000, big)
	if n != int64(len(big)) || !bytes.Equal(c.Bytes(), big[:1000]) {
		t.Fatalf("read %d of %d, kept %d bytes", n, len(big), len(c.Bytes()))
	}
	c, n, _ = read(len(big), big)
	if n != int64(len(big)) || !bytes.Equal(c.Bytes(), big) {
		t.Fatalf("read %d of %d, kept %d bytes", n, len(big), len(c.Bytes()))
	}
}
