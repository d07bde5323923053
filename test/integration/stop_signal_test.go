package integration

import (
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestCRIStopSignal (root): the container config's stop_signal (KEP-4960)
// is what StopContainer sends first, and ContainerStatus reports it;
// without it, SIGTERM; an unknown value is InvalidArgument.
func TestCRIStopSignal(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "stopsig")
	podID := runPod(t, b, pod)
	trap := "trap 'echo got USR1; exit 0' USR1; trap 'echo got TERM; exit 0' TERM; while true; do sleep 0.1; done"
	usr1 := ctrConfig("usr1", img, "sh", "-c", trap)
	usr1.StopSignal = runtime.Signal_SIGNAL_SIGUSR1
	plain := ctrConfig("plain", img, "sh", "-c", trap)
	for _, c := range []struct {
		cfg  *runtime.ContainerConfig
		want runtime.Signal
		line string
	}{{usr1, runtime.Signal_SIGNAL_SIGUSR1, "got USR1"}, {plain, runtime.Signal_SIGNAL_SIGTERM, "got TERM"}} {
		id := runContainer(t, b, podID, pod, c.cfg)
		st, err := b.RT.ContainerStatus(ctxT(t), &runtime.ContainerStatusRequest{ContainerId: id})
		if err != nil || st.Status.StopSignal != c.want {
			t.Fatalf("%s: status stop_signal %v (%v), want %v", c.cfg.Metadata.Name, st.GetStatus().GetStopSignal(), err, c.want)
		}
		time.Sleep(300 * time.Millisecond) // the traps are set
		if _, err := b.RT.StopContainer(ctxT(t), &runtime.StopContainerRequest{ContainerId: id, Timeout: 10}); err != nil {
			t.Fatal(err)
		}
		if st := waitExited(t, b, id, 15*time.Second); st.ExitCode != 0 {
			t.Errorf("%s: exit %d, want 0 from its trap", c.cfg.Metadata.Name, st.ExitCode)
		}
		lines := logLines(t, logPathOf(pod, c.cfg))
		if len(lines) == 0 || lines[len(lines)-1][2] != c.line {
			t.Errorf("%s: log %v, want %q last", c.cfg.Metadata.Name, lines, c.line)
		}
	}
	bad := ctrConfig("bad", img, "true")
	bad.StopSignal = runtime.Signal(999)
	_, err := b.RT.CreateContainer(ctxT(t), &runtime.CreateContainerRequest{PodSandboxId: podID, Config: bad, SandboxConfig: pod})
	if statusCode(err) != "InvalidArgument" || !strings.Contains(err.Error(), "stop_signal") {
		t.Fatalf("an unknown stop signal: %v", err)
	}
}
