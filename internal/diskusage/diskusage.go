// Package diskusage measures the disk space and inodes a directory tree
// takes, as du does: allocated blocks, each hard-linked file once.
package diskusage

import (
	"io/fs"
	"path/filepath"
	"syscall"
)

// Usage is what a tree takes.
type Usage struct {
	Bytes  uint64
	Inodes uint64
}

// Walk sums the blocks and inodes below dir, the directories included.
// Entries that vanish during the walk (a layer removed meanwhile) are
// skipped; only an unreadable dir itself is an error.
func Walk(dir string) (Usage, error) {
	var u Usage
	seen := map[uint64]bool{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == dir {
				return err
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return nil
		}
		st, ok := info.Sys().(*syscall.Stat_t)
		if !ok || seen[st.Ino] {
			return nil
		}
		if st.Nlink > 1 && !d.IsDir() {
			seen[st.Ino] = true
		}
		u.Inodes++
		u.Bytes += uint64(st.Blocks) * 512
		return nil
	})
	return u, err
}
