package image

import digest "github.com/opencontainers/go-digest"

// Retain keeps the given layers (chain IDs) and blobs from garbage
// collection, e.g. while a container's rootfs stacks them. Each Retain
// needs one Release.
func (s *Service) Retain(keys []digest.Digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, k := range keys {
		s.protected[k]++
	}
}

// Release undoes one Retain and frees what no image or holder still needs
// (the image may have been removed while a container used it).
func (s *Service) Release(keys []digest.Digest) {
	s.mu.Lock()
	defer s.mu.Unlock()
	freed := false
	for _, k := range keys {
		if s.protected[k]--; s.protected[k] <= 0 {
			delete(s.protected, k)
			freed = true
		}
	}
	if freed {
		s.collectGarbage()
	}
}
