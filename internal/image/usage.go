package image

import (
	"sync"
	"time"

	"github.com/berth-runtime/berth/internal/diskusage"
)

// Usage is the disk space and inodes the image store takes.
type Usage struct {
	Bytes     uint64
	Inodes    uint64
	Timestamp time.Time
}

// usageCache remembers the last walk until the store changes or it ages.
type usageCache struct {
	mu    sync.Mutex
	valid bool
	last  Usage
}

const usageMaxAge = time.Minute

func (u *usageCache) invalidate() {
	u.mu.Lock()
	u.valid = false
	u.mu.Unlock()
}

// Usage returns the image store's disk usage. kubelet asks every few
// seconds, so a walk is done only after a change or once a minute.
func (s *Service) Usage() (Usage, error) {
	s.usage.mu.Lock()
	defer s.usage.mu.Unlock()
	if s.usage.valid && time.Since(s.usage.last.Timestamp) < usageMaxAge {
		return s.usage.last, nil
	}
	u, err := walkUsage(s.dir)
	if err != nil {
		return Usage{}, err
	}
	s.usage.last, s.usage.valid = u, true
	return u, nil
}

func walkUsage(dir string) (Usage, error) {
	at := time.Now()
	u, err := diskusage.Walk(dir)
	return Usage{Bytes: u.Bytes, Inodes: u.Inodes, Timestamp: at}, err
}
