package stats

import (
	"testing"
	"time"

	"github.com/berth-runtime/berth/internal/diskusage"
)

func TestCollectorReusesLayerSizesAndForgets(t *testing.T) {
	c := NewCollector()
	walks := 0
	c.walk = func(string) (diskusage.Usage, error) {
		walks++
		return diskusage.Usage{Bytes: uint64(walks) * 100, Inodes: 1}, nil
	}
	if u := c.WritableLayer("a", "/x"); u.Bytes != 100 {
		t.Fatalf("first measure: %+v", u)
	}
	if u := c.WritableLayer("a", "/x"); u.Bytes != 100 || walks != 1 {
		t.Fatalf("a fresh measure was not reused: %+v after %d walks", u, walks)
	}
	c.mu.Lock()
	e := c.layers["a"]
	e.at = time.Now().Add(-layerMaxAge)
	c.layers["a"] = e
	c.mu.Unlock()
	if u := c.WritableLayer("a", "/x"); u.Bytes != 200 {
		t.Fatalf("an old measure was reused: %+v", u)
	}
	c.WritableLayer("b", "/y")
	c.RetainLayers(map[string]bool{"b": true})
	c.Forget("b")
	if len(c.layers) != 0 {
		t.Fatalf("kept after retain and forget: %v", c.layers)
	}
}
