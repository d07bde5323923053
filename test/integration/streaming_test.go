package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/portforward"
	"k8s.io/client-go/tools/remotecommand"
	"k8s.io/client-go/transport/spdy"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	utilexec "k8s.io/utils/exec"
)

// executor is what kubectl uses for a streaming URL: SPDY, or WebSocket.
func executor(t *testing.T, rawURL string, websocket bool) remotecommand.Executor {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	spdyExec, err := remotecommand.NewSPDYExecutor(&restclient.Config{}, "POST", u)
	if err != nil || !websocket {
		return spdyExec
	}
	// The WebSocket channel protocol CRI streaming servers speak (v4). The
	// v5 protocol kubectl offers first is the apiserver's, which translates
	// it to SPDY for the node.
	ws, err := remotecommand.NewWebSocketExecutorForProtocols(&restclient.Config{}, "GET", u.String(), "v4.channel.k8s.io")
	if err != nil {
		t.Fatal(err)
	}
	return ws
}

type fixedSize struct {
	once sync.Once
	size remotecommand.TerminalSize
}

func (f *fixedSize) Next() *remotecommand.TerminalSize {
	var s *remotecommand.TerminalSize
	f.once.Do(func() { s = &f.size })
	if s == nil {
		time.Sleep(time.Hour) // one size only; the session ends first
	}
	return s
}

func execURL(t *testing.T, b *berthd, id string, cmd []string, tty, stdin bool) string {
	t.Helper()
	resp, err := b.RT.Exec(ctxT(t), &runtime.ExecRequest{ContainerId: id, Cmd: cmd, Tty: tty, Stdin: stdin, Stdout: true, Stderr: !tty})
	if err != nil {
		t.Fatalf("Exec: %v", err)
	}
	return resp.Url
}

func streamingPod(t *testing.T, b *berthd, img string) (string, string, *runtime.PodSandboxConfig) {
	pod := podConfig(t, "stream")
	podID := runPod(t, b, pod)
	return podID, runContainer(t, b, podID, pod, ctrConfig("sleeper", img, "sleep", "1000")), pod
}

func TestExecStreams(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	_, id, _ := streamingPod(t, b, img)
	for _, ws := range []bool{false, true} {
		proto := map[bool]string{false: "spdy", true: "websocket"}[ws]
		t.Run(proto, func(t *testing.T) {
			// A terminal whose size the client set.
			var out bytes.Buffer
			err := executor(t, execURL(t, b, id, []string{"stty", "size"}, true, true), ws).StreamWithContext(ctxT(t), remotecommand.StreamOptions{
				Stdin: strings.NewReader(""), Stdout: &out, Tty: true, TerminalSizeQueue: &fixedSize{size: remotecommand.TerminalSize{Width: 120, Height: 40}}})
			if err != nil || strings.TrimSpace(out.String()) != "40 120" {
				t.Fatalf("stty size: %q %v", out.String(), err)
			}
			// Interactive stdin. WebSocket v4 cannot signal the end of stdin,
			// so there the command stops after one line by itself.
			out.Reset()
			cmd := []string{"cat"}
			if ws {
				cmd = []string{"head", "-n", "1"}
			}
			err = executor(t, execURL(t, b, id, cmd, false, true), ws).StreamWithContext(ctxT(t), remotecommand.StreamOptions{
				Stdin: strings.NewReader("echo me\n"), Stdout: &out, Stderr: io.Discard})
			if err != nil || out.String() != "echo me\n" {
				t.Fatalf("cat: %q %v", out.String(), err)
			}
			// The exit code reaches the client.
			var stderr bytes.Buffer
			err = executor(t, execURL(t, b, id, []string{"sh", "-c", "echo oops >&2; exit 7"}, false, false), ws).StreamWithContext(ctxT(t), remotecommand.StreamOptions{
				Stdout: io.Discard, Stderr: &stderr})
			var exitErr utilexec.ExitError
			if !errors.As(err, &exitErr) || exitErr.ExitStatus() != 7 || stderr.String() != "oops\n" {
				t.Fatalf("exit 7: %v %q", err, stderr.String())
			}
		})
	}
}

func TestExecBadInputAndStaleToken(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "bad")
	podID := runPod(t, b, pod)
	created := createContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000"))
	_, err := b.RT.Exec(ctxT(t), &runtime.ExecRequest{ContainerId: created, Cmd: []string{"true"}, Stdout: true})
	if statusCode(err) != "FailedPrecondition" {
		t.Errorf("exec in a created container: %v", err)
	}
	_, err = b.RT.Exec(ctxT(t), &runtime.ExecRequest{ContainerId: "nosuch", Cmd: []string{"true"}, Stdout: true})
	if statusCode(err) != "NotFound" {
		t.Errorf("exec in an unknown container: %v", err)
	}
	startContainer(t, b, created)
	_, err = b.RT.Exec(ctxT(t), &runtime.ExecRequest{ContainerId: created, Stdout: true})
	if statusCode(err) != "InvalidArgument" {
		t.Errorf("exec without a command: %v", err)
	}
	u := execURL(t, b, created, []string{"true"}, false, false)
	if err := executor(t, u, false).StreamWithContext(ctxT(t), remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard}); err != nil {
		t.Fatalf("first use of the URL: %v", err)
	}
	resp, err := http.Post(u, "text/plain", nil) // replayed: the token is spent
	if err != nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("replayed token: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestAttach(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "attach")
	podID := runPod(t, b, pod)
	cfg := ctrConfig("echoer", img, "sh", "-c", "echo ready; while read l; do echo got $l; done")
	cfg.Stdin = true
	id := runContainer(t, b, podID, pod, cfg)
	waitForLog(t, logPathOf(pod, cfg), "ready")
	resp, err := b.RT.Attach(ctxT(t), &runtime.AttachRequest{ContainerId: id, Stdin: true, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	// A second client, output only, attached at the same time.
	second, err := b.RT.Attach(ctxT(t), &runtime.AttachRequest{ContainerId: id, Stdout: true, Stderr: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inR, inW := io.Pipe()
	out, out2 := &lockedBuffer{}, &lockedBuffer{}
	done := make(chan error, 2)
	go func() {
		done <- executor(t, resp.Url, false).StreamWithContext(ctx, remotecommand.StreamOptions{Stdin: inR, Stdout: out, Stderr: io.Discard})
	}()
	go func() {
		done <- executor(t, second.Url, false).StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: out2, Stderr: io.Discard})
	}()
	for i := 0; i < 50 && !(strings.Contains(out.String(), "got ping") && strings.Contains(out2.String(), "got ping")); i++ {
		if i%10 == 0 {
			inW.Write([]byte("ping\n"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	if !strings.Contains(out.String(), "got ping") || !strings.Contains(out2.String(), "got ping") {
		t.Fatalf("attach outputs %q and %q", out.String(), out2.String())
	}
	cancel()
	<-done
	<-done
	waitForLog(t, logPathOf(pod, cfg), "got ping") // the log has it too
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func TestPortForward(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	web := mustPull(t, b, ti.Ref("web:latest"))
	podID := webPod(t, b, web, podConfig(t, "pf"))
	resp, err := b.RT.PortForward(ctxT(t), &runtime.PortForwardRequest{PodSandboxId: podID, Port: []int32{80}})
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(resp.Url)
	rt, upgrader, err := spdy.RoundTripperFor(&restclient.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dialer := spdy.NewDialer(upgrader, &http.Client{Transport: rt}, "POST", u)
	stop, ready := make(chan struct{}), make(chan struct{})
	fw, err := portforward.NewOnAddresses(dialer, []string{"127.0.0.1"}, []string{"0:80"}, stop, ready, io.Discard, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	go fw.ForwardPorts()
	defer close(stop)
	<-ready
	ports, _ := fw.GetPorts()
	var body string
	for i := 0; i < 50 && body == ""; i++ {
		var wg sync.WaitGroup
		results := make([]string, 3)
		for j := range results { // concurrent streams over one forward
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", ports[0].Local)); err == nil {
					data, _ := io.ReadAll(r.Body)
					r.Body.Close()
					results[j] = string(data)
				}
			}()
		}
		wg.Wait()
		if results[0] == results[1] && results[1] == results[2] {
			body = results[0]
		}
		if body == "" {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if body != "hello from berth\n" {
		t.Fatalf("port-forward served %q", body)
	}
}

func TestManyConcurrentExecsAndAbandonedSessions(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	podID, id, _ := streamingPod(t, b, img)
	shimPid := shimPidOf(t, b, podID)
	fdsBefore, daemonFDsBefore := countFDs(shimPid), countFDs(b.cmd.Process.Pid)

	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out bytes.Buffer
			err := executor(t, execURL(t, b, id, []string{"echo", fmt.Sprint(i)}, false, false), i%2 == 1).StreamWithContext(ctxT(t),
				remotecommand.StreamOptions{Stdout: &out, Stderr: io.Discard})
			if err == nil && out.String() != fmt.Sprintf("%d\n", i) {
				err = fmt.Errorf("session %d got %q", i, out.String())
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// A client that vanishes mid-stream: its process is killed.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- executor(t, execURL(t, b, id, []string{"sleep", "4343"}, false, true), false).StreamWithContext(ctx,
			remotecommand.StreamOptions{Stdin: blockingReader{}, Stdout: io.Discard, Stderr: io.Discard})
	}()
	time.Sleep(500 * time.Millisecond)
	if got := execOut(t, b, id, "sh", "-c", "ps | grep -c '[s]leep 4343' || true"); got != "1\n" {
		t.Fatalf("the session's process is not running: %q", got)
	}
	cancel()
	<-done
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := execOut(t, b, id, "sh", "-c", "ps | grep -c '[s]leep 4343' || true")
		if got == "0\n" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the abandoned session's process outlived it: %q", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	if after := countFDs(shimPid); after > fdsBefore+2 {
		t.Fatalf("shim fds %d -> %d after the sessions", fdsBefore, after)
	}
	if after := countFDs(b.cmd.Process.Pid); after > daemonFDsBefore+4 {
		t.Fatalf("berthd fds %d -> %d after the sessions", daemonFDsBefore, after)
	}
}

type blockingReader struct{}

func (blockingReader) Read([]byte) (int, error) { select {} }

func shimPidOf(t *testing.T, b *berthd, podID string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.State, "pods", podID, "shim", "shim.pid"))
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	fmt.Sscanf(string(data), "%d", &pid)
	return pid
}

func countFDs(pid int) int {
	entries, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	return len(entries)
}
