package ociruntime

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// fifoContainer lays out what runc create leaves: <root>/<id>/exec.fifo
// and a bundle whose config.json is spec.
func fifoContainer(t *testing.T, spec string) (Runtime, string, string) {
	dir := t.TempDir()
	r := Runtime{Path: "/usr/sbin/runc", Root: filepath.Join(dir, "root")}
	os.MkdirAll(filepath.Join(r.Root, "c1"), 0o700)
	if err := syscall.Mkfifo(filepath.Join(r.Root, "c1", "exec.fifo"), 0o600); err != nil {
		t.Fatal(err)
	}
	bundle := filepath.Join(dir, "bundle")
	os.Mkdir(bundle, 0o700)
	os.WriteFile(filepath.Join(bundle, "config.json"), []byte(spec), 0o600)
	return r, bundle, filepath.Join(r.Root, "c1", "exec.fifo")
}

func TestStartThroughFifoReleasesInit(t *testing.T) {
	r, bundle, fifo := fifoContainer(t, `{"process":{}}`)
	released := make(chan error, 1)
	go func() { // runc's init: open the write end (blocks for a reader), write, exec (close)
		f, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err == nil {
			_, err = f.Write([]byte("0"))
			f.Close()
		}
		released <- err
	}()
	if err := r.StartThroughFifo("c1", bundle, func() bool { return true }); err != nil {
		t.Fatal(err)
	}
	if err := <-released; err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(fifo); !os.IsNotExist(err) {
		t.Fatalf("the fifo stays (runc would call the container created): %v", err)
	}
}

func TestStartThroughFifoLeavesOthersToTheRuntime(t *testing.T) {
	r, bundle, _ := fifoContainer(t, `{"hooks":{"poststart":[{"path":"/bin/true"}]}}`)
	if err := r.StartThroughFifo("c1", bundle, func() bool { return true }); !errors.Is(err, ErrNoFifoStart) {
		t.Errorf("poststart hooks: %v, want ErrNoFifoStart (runc start runs them)", err)
	}
	r, bundle, _ = fifoContainer(t, `{}`)
	r.Path = "/usr/bin/crun"
	if err := r.StartThroughFifo("c1", bundle, func() bool { return true }); !errors.Is(err, ErrNoFifoStart) {
		t.Errorf("crun: %v, want ErrNoFifoStart", err)
	}
	if err := (Runtime{Path: "runc", Root: t.TempDir()}).StartThroughFifo("nope", bundle, func() bool { return true }); !errors.Is(err, ErrNoFifoStart) {
		t.Errorf("no fifo: %v, want ErrNoFifoStart", err)
	}
}

func TestStartThroughFifoGivesUpOnADeadInit(t *testing.T) {
	r, bundle, _ := fifoContainer(t, `{}`)
	start := time.Now()
	err := r.StartThroughFifo("c1", bundle, func() bool { return false })
	if err == nil || errors.Is(err, ErrNoFifoStart) {
		t.Fatalf("a dead init: %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Fatalf("took %s to notice", time.Since(start))
	}
}
