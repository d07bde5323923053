// Package keylock serialises work per key (a pod or container ID).
package keylock

import "sync"

// Map holds one mutex per key. Keys are few (pods and containers on a
// node) and their mutexes are dropped by Forget.
type Map struct {
	mu    sync.Mutex
	locks map[string]*sync.Mutex
}

// Lock locks key and returns its unlock.
func (k *Map) Lock(key string) func() {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*sync.Mutex{}
	}
	l, ok := k.locks[key]
	if !ok {
		l = &sync.Mutex{}
		k.locks[key] = l
	}
	k.mu.Unlock()
	l.Lock()
	return l.Unlock
}

// Forget drops key's mutex once the object is gone.
func (k *Map) Forget(key string) {
	k.mu.Lock()
	delete(k.locks, key)
	k.mu.Unlock()
}
