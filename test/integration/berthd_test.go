package integration

import (
	"context"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// berthd is one daemon under test.
type berthd struct {
	t      testing.TB
	bin    string // the berthd binary
	dir    string
	Root   string
	State  string
	Socket string
	cmd    *exec.Cmd
	exited chan error
	env    []string
	config string
	podIDs []string // every pod the test ran, for the leak checks
	conn   *grpc.ClientConn
	Images runtime.ImageServiceClient
	RT     runtime.RuntimeServiceClient
}

// startBerthd runs berthd with extraConfig (TOML) on a fresh temp root,
// waits for its socket and stops it when the test ends, checking that it
// exited cleanly and left no temporary files.
func startBerthd(t testing.TB, extraConfig string, env ...string) *berthd {
	t.Helper()
	return startBerthdBinary(t, berthdBin, extraConfig, env...)
}

// startBerthdBinary is startBerthd with another berthd binary (one built
// with -race, say).
func startBerthdBinary(t testing.TB, bin, extraConfig string, env ...string) *berthd {
	t.Helper()
	requireRoot(t)
	dir, err := os.MkdirTemp("", "berth-it-")
	if err != nil {
		t.Fatal(err)
	}
	// Searchable as /run is, where berth's state lives: a pod with its own
	// user namespace runs as a host UID that must pass through it.
	if err := os.Chmod(dir, 0o711); err != nil {
		t.Fatal(err)
	}
	b := &berthd{t: t, bin: bin, dir: dir, Root: filepath.Join(dir, "root"), State: filepath.Join(dir, "state"),
		Socket: filepath.Join(dir, "berth.sock"), env: env}
	cfg := filepath.Join(dir, "berth.toml")
	if !strings.Contains(extraConfig, "[network]") {
		// Its own CNI conf dir: the host's /etc/cni/net.d is not the test's business.
		extraConfig = fmt.Sprintf("[network]\nconf_dir = %q\n", filepath.Join(dir, "net.d")) + extraConfig
	}
	if err := os.WriteFile(cfg, []byte(extraConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	b.config = cfg
	b.start(cfg)
	t.Cleanup(func() {
		b.removeAllPods()
		b.Stop()
		b.assertNoTempFiles()
		b.assertNoLeaks()
		os.RemoveAll(dir)
	})
	return b
}

func (b *berthd) start(cfg string) {
	t := b.t
	t.Helper()
	logFile, err := os.OpenFile(filepath.Join(b.dir, "berthd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	b.cmd = exec.Command(b.bin, "--config", cfg, "--root", b.Root, "--state", b.State,
		"--listen", b.Socket, "--log-level", "debug")
	b.cmd.Stdout, b.cmd.Stderr = logFile, logFile
	b.cmd.Env = append(os.Environ(), b.env...)
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logFile.Close()
	b.exited = make(chan error, 1)
	go func() { b.exited <- b.cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if conn, err := net.Dial("unix", b.Socket); err == nil {
			conn.Close()
			break
		}
		select {
		case err := <-b.exited:
			t.Fatalf("berthd exited at start: %v\n%s", err, b.Log())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("berthd socket did not appear\n%s", b.Log())
		}
		time.Sleep(10 * time.Millisecond)
	}
	b.conn, err = grpc.NewClient("unix://"+b.Socket, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(32<<20)))
	if err != nil {
		t.Fatal(err)
	}
	b.Images = runtime.NewImageServiceClient(b.conn)
	b.RT = runtime.NewRuntimeServiceClient(b.conn)
}

// Kill ends berthd with SIGKILL, as a crash would.
func (b *berthd) Kill() {
	b.conn.Close()
	b.conn = nil
	b.cmd.Process.Kill()
	<-b.exited
	b.cmd = nil
}

// Restart starts berthd again on the same root, state and socket.
func (b *berthd) Restart() { b.start(b.config) }

// Stop sends SIGTERM and requires a clean exit within 15 s.
func (b *berthd) Stop() {
	if b.conn != nil {
		b.conn.Close()
		b.conn = nil
	}
	if b.cmd == nil {
		return
	}
	b.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-b.exited:
		if err != nil {
			b.t.Errorf("berthd exited with %v\n%s", err, b.Log())
		}
	case <-time.After(15 * time.Second):
		b.cmd.Process.Kill()
		b.t.Errorf("berthd did not stop on SIGTERM\n%s", b.Log())
	}
	b.cmd = nil
}

// Log is berthd's output so far.
func (b *berthd) Log() string {
	data, _ := os.ReadFile(filepath.Join(b.dir, "berthd.log"))
	return string(data)
}

// assertNoTempFiles fails the test if a pull left partial blobs or layers.
func (b *berthd) assertNoTempFiles() {
	b.t.Helper()
	for _, p := range b.tempFiles() {
		b.t.Errorf("temporary file left behind: %s", p)
	}
}

func (b *berthd) tempFiles() []string {
	var out []string
	ingest := filepath.Join(b.Root, "images", "content", "ingest")
	entries, _ := os.ReadDir(ingest)
	for _, e := range entries {
		out = append(out, filepath.Join(ingest, e.Name()))
	}
	layers := filepath.Join(b.Root, "images", "layers")
	entries, _ = os.ReadDir(layers)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".tmp-") {
			out = append(out, filepath.Join(layers, e.Name()))
		}
	}
	return out
}

// storedFiles counts the blobs and unpacked layers on disk.
func (b *berthd) storedFiles() (blobs, layers int) {
	count := func(dir string) int {
		entries, _ := os.ReadDir(dir)
		return len(entries)
	}
	return count(filepath.Join(b.Root, "images", "content", "blobs", "sha256")),
		count(filepath.Join(b.Root, "images", "layers"))
}

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func pull(t testing.TB, b *berthd, ref string, auth *runtime.AuthConfig) (string, error) {
	t.Helper()
	resp, err := b.Images.PullImage(ctxT(t), &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}, Auth: auth})
	if err != nil {
		return "", err
	}
	return resp.ImageRef, nil
}

func mustPull(t testing.TB, b *berthd, ref string) string {
	t.Helper()
	id, err := pull(t, b, ref, nil)
	if err != nil {
		t.Fatalf("pull %s: %v\n%s", ref, err, b.Log())
	}
	return id
}

func imageStatus(t testing.TB, b *berthd, ref string) *runtime.Image {
	t.Helper()
	resp, err := b.Images.ImageStatus(ctxT(t), &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: ref}})
	if err != nil {
		t.Fatalf("image status %s: %v", ref, err)
	}
	return resp.Image
}

func walkCount(dir string) int {
	n := 0
	filepath.WalkDir(dir, func(string, fs.DirEntry, error) error { n++; return nil })
	return n
}
