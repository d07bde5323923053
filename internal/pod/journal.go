package pod

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// A pod's directory is its journal: what a RunPodSandbox has made so far
// is written there (sandbox.json) before each step that makes something
// outside it, and StopPodSandbox and RemovePodSandbox leave a marker while
// they run. After a crash, Recover reads them to undo a half-made pod or
// finish a stop or removal. The directory is on berth's state dir (tmpfs
// in production): writing it costs microseconds, no fsync.
const (
	journalName    = "sandbox.json"
	markerStopping = "stopping"
	markerRemoving = "removing"
)

// journal records what s holds so far.
func journal(s *Sandbox) error {
	data, err := json.Marshal(s)
	if err != nil {
		return err
	}
	tmp := filepath.Join(s.Dir, journalName+".tmp")
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		return fmt.Errorf("write pod journal: %w", err)
	}
	return os.Rename(tmp, filepath.Join(s.Dir, journalName))
}

// readJournal returns what a pod's directory says it holds; a missing or
// torn journal yields only what the directory's name tells.
func readJournal(id, dir string) *Sandbox {
	s := &Sandbox{}
	if data, err := os.ReadFile(filepath.Join(dir, journalName)); err == nil {
		if json.Unmarshal(data, s) != nil {
			s = &Sandbox{}
		}
	}
	if s.ID != id {
		// Nothing usable: assume berth made the pod's cgroup (it does unless
		// the kubelet gave a parent), so that it is looked for and removed.
		s = &Sandbox{ID: id, Cgroup: "/berth/" + id, OwnsCgroup: true}
	}
	s.Dir = dir
	return s
}

// mark leaves a marker in the pod's directory while an operation runs.
// A pod whose directory is gone (lost state) gets none and needs none.
func mark(s *Sandbox, marker string) {
	if _, err := os.Stat(s.Dir); err == nil {
		_ = os.WriteFile(filepath.Join(s.Dir, marker), nil, 0o600)
	}
}

func unmark(s *Sandbox, marker string) { _ = os.Remove(filepath.Join(s.Dir, marker)) }

func marked(s *Sandbox, marker string) bool {
	_, err := os.Stat(filepath.Join(s.Dir, marker))
	return err == nil
}
