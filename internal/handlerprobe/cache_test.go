package handlerprobe

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCachedReportsFollowTheBinary(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "runc")
	os.WriteFile(bin, []byte("v1"), 0o755)
	h := Handler{Path: bin}
	if _, ok := loadCached(dir, "runc", h); ok {
		t.Fatal("a report before any probe")
	}
	storeCached(dir, "runc", h, Report{Ready: true, RecursiveReadOnlyMounts: true})
	if r, ok := loadCached(dir, "runc", h); !ok || !r.Ready || !r.RecursiveReadOnlyMounts {
		t.Fatalf("cached report: %+v %v", r, ok)
	}
	// A new binary is probed again.
	os.WriteFile(bin, []byte("version 2"), 0o755)
	os.Chtimes(bin, time.Now().Add(time.Hour), time.Now().Add(time.Hour))
	if _, ok := loadCached(dir, "runc", h); ok {
		t.Fatal("a report of the old binary was reused")
	}
}
