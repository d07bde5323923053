// Package store keeps berth's metadata in one bbolt database. Every change
// goes through Update, so a group of records changes atomically or not at all.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Bucket names a collection of records.
type Bucket string

// The collections berth keeps.
const (
	Images     Bucket = "images"
	Sandboxes  Bucket = "sandboxes"
	Containers Bucket = "containers"
)

var buckets = []Bucket{Images, Sandboxes, Containers}

// DB is berth's metadata database.
type DB struct {
	bolt *bolt.DB

	mu         sync.Mutex
	pending    []*update // waiting for the next commit
	committing bool      // a goroutine is committing groups
	commits    atomic.Int64
}

// update is one Update waiting for its commit.
type update struct {
	fn   func(*Tx) error
	done chan error
}

// ErrNoRecord is returned by Get for a missing key.
var ErrNoRecord = errors.New("no such record")

// Open opens (creating if needed) the database file at path.
func Open(path string) (*DB, error) {
	b, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return nil, fmt.Errorf("open metadata %s: %w", path, err)
	}
	err = b.Update(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Close()
		return nil, fmt.Errorf("init metadata %s: %w", path, err)
	}
	return &DB{bolt: b}, nil
}

// Close closes the database.
func (d *DB) Close() error { return d.bolt.Close() }

// Tx is a read-write or read-only transaction.
type Tx struct{ tx *bolt.Tx }

// Update runs fn in a read-write transaction, committed (and synced) only
// if fn succeeds; it returns once that commit is on disk.
//
// Updates are committed in groups: while one commit syncs, the updates that
// arrive wait and then share the next transaction and its one fsync (a
// burst of 100 pods made 200 commits one after the other). An update that
// arrives when none is committing is committed at once, alone. fn may run
// more than once (its group is run again without an update that failed),
// so it must only write to tx; only its last run counts.
func (d *DB) Update(fn func(*Tx) error) error {
	u := &update{fn: fn, done: make(chan error, 1)}
	d.mu.Lock()
	d.pending = append(d.pending, u)
	if !d.committing {
		d.committing = true
		go d.commitPending()
	}
	d.mu.Unlock()
	return <-u.done
}

// commitPending commits the waiting updates, group after group, until
// none waits.
func (d *DB) commitPending() {
	for {
		d.mu.Lock()
		group := d.pending
		d.pending = nil
		if len(group) == 0 {
			d.committing = false
			d.mu.Unlock()
			return
		}
		d.mu.Unlock()
		d.commitGroup(group)
	}
}

// commitGroup commits group in one transaction. An update whose fn fails
// (or panics) gets its error and the rest are run again without it.
func (d *DB) commitGroup(group []*update) {
	for len(group) > 0 {
		failed, failure := -1, error(nil)
		d.commits.Add(1)
		err := d.bolt.Update(func(tx *bolt.Tx) error {
			for i, u := range group {
				if err := runUpdate(u.fn, &Tx{tx}); err != nil {
					failed, failure = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, u := range group {
				u.done <- err
			}
			return
		}
		group[failed].done <- failure
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}

// Commits counts the read-write transactions run since Open.
func (d *DB) Commits() int64 { return d.commits.Load() }

// runUpdate runs fn, turning a panic into its error (it runs on the
// committing goroutine, not its caller's).
func runUpdate(fn func(*Tx) error, tx *Tx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("update panicked: %v", r)
		}
	}()
	return fn(tx)
}

// View runs fn in a read-only transaction.
func (d *DB) View(fn func(*Tx) error) error {
	return d.bolt.View(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// Put stores v as JSON under key.
func (t *Tx) Put(b Bucket, key string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s/%s: %w", b, key, err)
	}
	return t.tx.Bucket([]byte(b)).Put([]byte(key), data)
}

// Get decodes the record under key into v, or returns ErrNoRecord.
func (t *Tx) Get(b Bucket, key string, v any) error {
	data := t.tx.Bucket([]byte(b)).Get([]byte(key))
	if data == nil {
		return ErrNoRecord
	}
	return json.Unmarshal(data, v)
}

// Delete removes key; a missing key is not an error.
func (t *Tx) Delete(b Bucket, key string) error {
	return t.tx.Bucket([]byte(b)).Delete([]byte(key))
}

// ForEach calls fn with every key and raw JSON value of the bucket.
func (t *Tx) ForEach(b Bucket, fn func(key string, raw []byte) error) error {
	return t.tx.Bucket([]byte(b)).ForEach(func(k, v []byte) error { return fn(string(k), v) })
}

// LoadAll decodes every record of bucket b with newT and passes it to add.
func LoadAll[T any](d *DB, b Bucket, add func(key string, v *T)) error {
	return d.View(func(tx *Tx) error {
		return tx.ForEach(b, func(key string, raw []byte) error {
			v := new(T)
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("decode %s/%s: %w", b, key, err)
			}
			add(key, v)
			return nil
		})
	})
}
