package integration

import (
	"context"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/test/fixture"
)

func TestDaemonSocketVersionStatus(t *testing.T) {
	b := startBerthd(t, "")
	fi, err := os.Stat(b.Socket)
	if err != nil || fi.Mode().Perm() != 0o600 || fi.Mode()&os.ModeSocket == 0 {
		t.Fatalf("socket mode: %v %v", fi, err)
	}
	v, err := b.RT.Version(ctxT(t), &runtime.VersionRequest{})
	if err != nil || v.RuntimeName != "berth" || v.RuntimeApiVersion != "v1" {
		t.Fatalf("version %+v %v", v, err)
	}
	st, err := b.RT.Status(ctxT(t), &runtime.StatusRequest{})
	if err != nil {
		t.Fatal(err)
	}
	conds := map[string]*runtime.RuntimeCondition{}
	for _, c := range st.Status.Conditions {
		conds[c.Type] = c
	}
	if !conds[runtime.RuntimeReady].GetStatus() {
		t.Errorf("RuntimeReady false: %+v", conds)
	}
	if n := conds[runtime.NetworkReady]; n == nil || !n.Status {
		t.Errorf("NetworkReady should be true with berth's default network: %+v", n)
	}
	fsinfo, err := b.Images.ImageFsInfo(ctxT(t), &runtime.ImageFsInfoRequest{})
	if err != nil || len(fsinfo.ImageFilesystems) != 1 {
		t.Fatalf("fs info %v %v", fsinfo, err)
	}
	fs := fsinfo.ImageFilesystems[0]
	if fs.FsId.Mountpoint != filepath.Join(b.Root, "images") || fs.UsedBytes.Value == 0 || fs.InodesUsed.Value == 0 {
		t.Fatalf("fs info %+v", fs)
	}
}

func TestImageFsInfoGrowsWithPull(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	before, err := b.Images.ImageFsInfo(ctxT(t), &runtime.ImageFsInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	mustPull(t, b, ti.Ref("busybox:latest"))
	after, err := b.Images.ImageFsInfo(ctxT(t), &runtime.ImageFsInfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	grew := after.ImageFilesystems[0].UsedBytes.Value - before.ImageFilesystems[0].UsedBytes.Value
	if grew < 1<<20 { // busybox alone is over 1 MiB, stored twice (blob + layer)
		t.Fatalf("image fs grew by %d bytes after a pull", grew)
	}
	if after.ImageFilesystems[0].InodesUsed.Value < before.ImageFilesystems[0].InodesUsed.Value+250 {
		t.Fatalf("inodes %d -> %d: busybox's applet links are missing", before.ImageFilesystems[0].InodesUsed.Value, after.ImageFilesystems[0].InodesUsed.Value)
	}
}

// TestEveryCRICallIsImplemented (root): each RPC of the RuntimeService and
// ImageService berth's cri-api declares, called with an empty request,
// answers something other than Unimplemented (mostly InvalidArgument or
// NotFound naming what is missing).
func TestEveryCRICallIsImplemented(t *testing.T) {
	b := startBerthd(t, "")
	n := 0
	for _, sd := range []grpc.ServiceDesc{runtime.RuntimeService_ServiceDesc, runtime.ImageService_ServiceDesc} {
		for _, m := range sd.Methods {
			req, resp := criMessage(t, m.MethodName+"Request"), criMessage(t, m.MethodName+"Response")
			err := b.conn.Invoke(ctxT(t), "/"+sd.ServiceName+"/"+m.MethodName, req, resp)
			if status.Code(err) == codes.Unimplemented {
				t.Errorf("%s: %v", m.MethodName, err)
			}
			n++
		}
		for _, st := range sd.Streams {
			// GetContainerEvents sends nothing until an event: a short wait.
			ctx, cancel := context.WithTimeout(ctxT(t), 2*time.Second)
			stream, err := b.conn.NewStream(ctx, &grpc.StreamDesc{ServerStreams: true}, "/"+sd.ServiceName+"/"+st.StreamName)
			if err == nil {
				err = stream.SendMsg(criMessage(t, streamRequest(st.StreamName)))
			}
			if err == nil {
				err = stream.CloseSend()
			}
			if err == nil {
				err = stream.RecvMsg(criMessage(t, streamResponse(st.StreamName)))
			}
			cancel()
			if status.Code(err) == codes.Unimplemented {
				t.Errorf("%s: %v", st.StreamName, err)
			}
			n++
		}
	}
	if n < 43 {
		t.Errorf("called %d RPCs, want the 43 of cri-api v0.37 at least", n)
	}
}

// criMessage is a new message of the CRI's package by its name.
func criMessage(t *testing.T, name string) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName("runtime.v1." + name))
	if err != nil {
		t.Fatalf("message %s: %v", name, err)
	}
	return mt.New().Interface()
}

// streamRequest and streamResponse name a streaming RPC's messages: the
// Stream* calls take their List call's request and send one item each.
func streamRequest(name string) string {
	if name == "GetContainerEvents" {
		return "GetEventsRequest"
	}
	return name + "Request"
}

func streamResponse(name string) string {
	if name == "GetContainerEvents" {
		return "ContainerEventResponse"
	}
	return name + "Response"
}

func TestSecondDaemonOnSameRootRefuses(t *testing.T) {
	b := startBerthd(t, "")
	out, err := exec.Command(berthdBin, "--root", b.Root, "--state", b.State, "--listen", b.Socket+"2").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "another berthd") || !strings.Contains(string(out), b.Root) {
		t.Fatalf("second berthd: %v\n%s", err, out)
	}
	// The first one still serves.
	if _, err := b.RT.Version(ctxT(t), &runtime.VersionRequest{}); err != nil {
		t.Fatalf("first berthd broken by the second: %v", err)
	}
}

func TestConfigErrorsNameTheKey(t *testing.T) {
	requireRoot(t)
	dir := t.TempDir()
	for text, key := range map[string]string{
		"[image]\nmax_downloads = 3\n": "image.max_downloads",
		"log_level = \"chatty\"\n":     "log_level",
	} {
		cfg := filepath.Join(dir, "berth.toml")
		os.WriteFile(cfg, []byte(text), 0o600)
		out, err := exec.Command(berthdBin, "--config", cfg, "--root", filepath.Join(dir, "r"), "--state", filepath.Join(dir, "s"),
			"--listen", filepath.Join(dir, "s.sock")).CombinedOutput()
		if err == nil || !strings.Contains(string(out), key) {
			t.Errorf("config %q: want an error naming %s, got %v: %s", text, key, err, out)
		}
	}
	out, err := exec.Command(berthdBin, "config", "default").Output()
	if err != nil || !strings.Contains(string(out), "max_concurrent_downloads = 3") {
		t.Fatalf("config default: %v\n%s", err, out)
	}
}

// TestSIGTERMFinishesInFlightCalls sends SIGTERM in the middle of a pull:
// the pull completes, then berthd exits 0 and removes its socket.
func TestSIGTERMFinishesInFlightCalls(t *testing.T) {
	ti := images(t)
	proxy := startProxy(t, ti.Addr())
	b := startBerthd(t, "")
	var once sync.Once
	proxy.SetFault(fixture.Fault{OnBlob: func() {
		once.Do(func() { b.cmd.Process.Signal(syscall.SIGTERM) })
		time.Sleep(300 * time.Millisecond)
	}})
	id, err := pull(t, b, proxy.Addr+"/busybox:latest", nil)
	if err != nil || id != ti.BusyboxID {
		t.Fatalf("in-flight pull cut by SIGTERM: %s %v", id, err)
	}
	select {
	case err := <-b.exited:
		if err != nil {
			t.Fatalf("berthd exit: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("berthd did not exit after SIGTERM")
	}
	b.cmd = nil
	if _, err := os.Stat(b.Socket); !os.IsNotExist(err) {
		t.Fatalf("socket left after shutdown: %v", err)
	}
}
