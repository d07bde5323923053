// Package keylock serialises work per key (a pod or container ID).
package keylock

import "sync"

// entry is one key's lock and how many hold it or wait for it.
type entry struct {
	mu   sync.RWMutex
	refs int
}

// Map holds one lock per key while anyone holds or waits for it, and
// drops it when the last one unlocks: a key never has two locks, and the
// map holds only keys in use.
type Map struct {
	mu      sync.Mutex
	entries map[string]*entry
}

func (k *Map) acquire(key string) *entry {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.entries == nil {
		k.entries = map[string]*entry{}
	}
	e, ok := k.entries[key]
	if !ok {
		e = &entry{}
		k.entries[key] = e
	}
	e.refs++
	return e
}

func (k *Map) release(key string, e *entry) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e.refs--; e.refs == 0 {
		delete(k.entries, key)
	}
}

// Lock locks key exclusively and returns its unlock.
func (k *Map) Lock(key string) func() {
	e := k.acquire(key)
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		k.release(key, e)
	}
}

// RLock locks key shared with other RLock holders (exclusive of Lock) and
// returns its unlock. A Lock that waits keeps new RLocks waiting too.
func (k *Map) RLock(key string) func() {
	e := k.acquire(key)
	e.mu.RLock()
	return func() {
		e.mu.RUnlock()
		k.release(key, e)
	}
}

// Len is the number of keys in use (for tests).
func (k *Map) Len() int {
	k.mu.Lock()
	defer k.mu.Unlock()
	return len(k.entries)
}
