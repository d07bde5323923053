// Package registry keeps the objects a manager has recorded (pods,
// containers) in memory: by ID, found by full ID or unique prefix, listed
// newest first, with the names that make them unique on the node. Objects
// are handed out as copies; a manager changes one by putting a new copy
// (after writing it to its store).
package registry

import (
	"crypto/rand"
	"encoding/hex"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/idprefix"
)

// Object is what a registry holds: a pointer type that copies itself and
// knows its ID and creation time.
type Object[T any] interface {
	comparable
	Key() string
	Created() time.Time
	Copy() T
}

// Registry holds objects of one kind.
type Registry[T Object[T]] struct {
	kind string // in errors: "container", "pod sandbox"

	mu    sync.RWMutex
	items map[string]T
	names map[string]string // name -> ID
	gen   atomic.Uint64     // grows with every Put and Delete
}

// New returns an empty registry of kind.
func New[T Object[T]](kind string) *Registry[T] {
	return &Registry[T]{kind: kind, items: map[string]T{}, names: map[string]string{}}
}

// Get returns a copy of the object whose ID is id, or the only one whose
// ID starts with it.
func (r *Registry[T]) Get(id string) (T, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	item, err := idprefix.Find(r.items, id, r.kind)
	if err != nil {
		var zero T
		return zero, err
	}
	return item.Copy(), nil
}

// Peek returns the object with exactly this ID, not a copy: the caller
// must not change it (it copies it first to make the next version).
func (r *Registry[T]) Peek(id string) (T, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	item, ok := r.items[id]
	return item, ok
}

// List returns copies of every object, newest first.
func (r *Registry[T]) List() []T {
	r.mu.RLock()
	out := make([]T, 0, len(r.items))
	for _, item := range r.items {
		out = append(out, item.Copy())
	}
	r.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Created().After(out[j].Created()) })
	return out
}

// Each calls fn with each object (not copies: fn only reads), under the
// registry's read lock.
func (r *Registry[T]) Each(fn func(T)) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	for _, item := range r.items {
		fn(item)
	}
}

// Put records the current version of an object.
func (r *Registry[T]) Put(item T) {
	r.mu.Lock()
	r.items[item.Key()] = item
	r.gen.Add(1)
	r.mu.Unlock()
}

// Generation grows with every change of the objects: a list made at one
// generation is current for as long as it stays the same.
func (r *Registry[T]) Generation() uint64 { return r.gen.Load() }

// Delete forgets an object and every name it holds.
func (r *Registry[T]) Delete(id string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.items, id)
	r.gen.Add(1)
	for name, holder := range r.names {
		if holder == id {
			delete(r.names, name)
		}
	}
}

// Reserve claims name for id, or says which object holds it. release
// gives it back unless another object took it meanwhile.
func (r *Registry[T]) Reserve(name, id string) (release func(), err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if holder, ok := r.names[name]; ok {
		return nil, errdefs.AlreadyExists("%s name %q is already reserved for %s %s", r.kind, name, r.kind, holder)
	}
	r.names[name] = id
	return func() {
		r.mu.Lock()
		if r.names[name] == id {
			delete(r.names, name)
		}
		r.mu.Unlock()
	}, nil
}

// Holder tells which ID holds name, and whether that object is recorded
// (a reservation comes before the record).
func (r *Registry[T]) Holder(name string) (id string, reserved bool, item T, recorded bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	id, reserved = r.names[name]
	item, recorded = r.items[id]
	if recorded {
		item = item.Copy()
	}
	return id, reserved, item, recorded
}

// Has tells whether an object with exactly this ID is recorded.
func (r *Registry[T]) Has(id string) bool {
	r.mu.RLock()
	defer r.mu.RUnlock()
	_, ok := r.items[id]
	return ok
}

// NewID returns a fresh ID: 64 random hex digits, as the CRI's are.
func NewID() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
