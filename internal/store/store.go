// Package store keeps berth's metadata in one bbolt database. Every change
// goes through Update, so a group of records changes atomically or not at all.
package store

import (
	"encoding/json"
	"errors"
	"fmt"
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
type DB struct{ bolt *bolt.DB }

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

// Update runs fn in one read-write transaction, committed only if fn succeeds.
func (d *DB) Update(fn func(*Tx) error) error {
	return d.bolt.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
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
