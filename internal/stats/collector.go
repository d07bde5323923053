package stats

import (
	"sync"
	"time"

	"github.com/berth-runtime/berth/internal/diskusage"
)

// layerMaxAge is how long a writable layer's measured size is reused: the
// kubelet asks for every container's stats every few seconds, and a walk
// of a big writable layer is not free (cAdvisor measures disk usage about
// once a minute).
const layerMaxAge = 30 * time.Second

// Collector measures containers and pods for the stats and metrics calls
// and keeps what those need between calls: each object's last CPU reading
// (for its rate) and each writable layer's last measured size. Objects are
// named by keys: a container's ID, or "pod:" and a pod's ID.
type Collector struct {
	rates rates
	walk  func(dir string) (diskusage.Usage, error)

	mu     sync.Mutex
	layers map[string]layerSize
}

type layerSize struct {
	diskusage.Usage
	at time.Time
}

// NewCollector returns an empty collector.
func NewCollector() *Collector {
	return &Collector{walk: diskusage.Walk, layers: map[string]layerSize{}}
}

// PodKey is the key of a pod's readings.
func PodKey(podID string) string { return "pod:" + podID }

// Cgroup reads the cgroup at path for the object key: the sample and its
// CPU rate in nano cores since the object's previous reading (0 on the
// first).
func (c *Collector) Cgroup(key, path string) (*Sample, uint64, error) {
	s, err := Cgroup(path)
	if err != nil {
		return nil, 0, err
	}
	return s, c.rates.nanoCores(key, s), nil
}

// WritableLayer is the disk use of container id's writable layer at dir,
// walked again once the last measure is layerMaxAge old.
func (c *Collector) WritableLayer(id, dir string) diskusage.Usage {
	c.mu.Lock()
	e, ok := c.layers[id]
	c.mu.Unlock()
	if ok && time.Since(e.at) < layerMaxAge {
		return e.Usage
	}
	u, _ := c.walk(dir) // a layer gone meanwhile is empty
	c.mu.Lock()
	c.layers[id] = layerSize{Usage: u, at: time.Now()}
	c.mu.Unlock()
	return u
}

// Forget drops what is kept of an object (removed).
func (c *Collector) Forget(key string) {
	c.rates.Forget(key)
	c.mu.Lock()
	delete(c.layers, key)
	c.mu.Unlock()
}

// RetainLayers drops the layer sizes of containers not in live (removed
// with their pod, where no Forget named them).
func (c *Collector) RetainLayers(live map[string]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.layers {
		if !live[id] {
			delete(c.layers, id)
		}
	}
}
