package integration

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestWhiteoutsOnOverlay stacks the multilayer image's unpacked layers on a
// real overlayfs mount and checks that deleted files are really gone.
func TestWhiteoutsOnOverlay(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	id := mustPull(t, b, ti.Ref("multilayer:latest"))
	resp, err := b.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: id}, Verbose: true})
	if err != nil {
		t.Fatal(err)
	}
	var info struct {
		Layers []struct {
			ChainID string `json:"chainID"`
		} `json:"layers"`
	}
	if err := json.Unmarshal([]byte(resp.Info["info"]), &info); err != nil || len(info.Layers) != 3 {
		t.Fatalf("layers in verbose info: %v %v", info, err)
	}
	var lower []string
	for i := len(info.Layers) - 1; i >= 0; i-- {
		hex := strings.TrimPrefix(info.Layers[i].ChainID, "sha256:")
		lower = append(lower, filepath.Join(b.Root, "images", "layers", hex, "fs"))
	}
	target := t.TempDir()
	if err := unix.Mount("overlay", target, "overlay", unix.MS_RDONLY, "lowerdir="+strings.Join(lower, ":")); err != nil {
		t.Fatalf("mount overlay: %v", err)
	}
	defer unix.Unmount(target, unix.MNT_DETACH)

	for path, want := range map[string]string{"data/keep": "keep", "opq/new": "new"} {
		got, err := os.ReadFile(filepath.Join(target, path))
		if err != nil || string(got) != want {
			t.Errorf("%s: %q %v", path, got, err)
		}
	}
	for _, gone := range []string{"data/gone", "data/sub", "data/sub/file", "opq/old"} {
		if _, err := os.Lstat(filepath.Join(target, gone)); !os.IsNotExist(err) {
			t.Errorf("%s should be deleted by a whiteout, got %v", gone, err)
		}
	}
	if fi, err := os.Stat(filepath.Join(target, "bin/sh")); err != nil || !fi.Mode().IsRegular() {
		t.Errorf("bin/sh from the bottom layer: %v %v", fi, err)
	}
	entries, _ := os.ReadDir(filepath.Join(target, "data"))
	if len(entries) != 1 {
		t.Errorf("data/ holds %v, want only keep", entries)
	}
}
