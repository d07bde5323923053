package handlerprobe

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// The reports are kept in berthd's state dir (a tmpfs: a reboot clears
// it), keyed by the runtime binary's size and time, so that a restart of
// berthd reuses them instead of probing again (a probe costs about as much
// as a container create). A new binary, or a new boot, probes afresh.

type cached struct {
	Binary string `json:"binary"`
	Report Report `json:"report"`
}

// binaryKey names the runtime binary as it is now.
func binaryKey(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	// v2: reports say whether user namespaces work.
	return fmt.Sprintf("v2 %s %d %d", path, st.Size(), st.ModTime().UnixNano()), nil
}

func cacheFile(dir, name string) string { return filepath.Join(dir, name+".json") }

// loadCached returns the cached report of h, if it is for this binary.
func loadCached(dir, name string, h Handler) (Report, bool) {
	key, err := binaryKey(h.Path)
	if err != nil {
		return Report{}, false
	}
	data, err := os.ReadFile(cacheFile(dir, name))
	if err != nil {
		return Report{}, false
	}
	var c cached
	if json.Unmarshal(data, &c) != nil || c.Binary != key {
		return Report{}, false
	}
	return c.Report, true
}

// storeCached keeps r for h's binary.
func storeCached(dir, name string, h Handler, r Report) {
	key, err := binaryKey(h.Path)
	if err != nil {
		return
	}
	data, err := json.Marshal(cached{Binary: key, Report: r})
	if err != nil || os.MkdirAll(dir, 0o700) != nil {
		return
	}
	tmp := cacheFile(dir, name) + ".tmp"
	if os.WriteFile(tmp, data, 0o600) == nil {
		os.Rename(tmp, cacheFile(dir, name))
	}
}
