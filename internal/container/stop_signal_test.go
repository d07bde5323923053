package container

import (
	"syscall"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestStopSignalsBothWays(t *testing.T) {
	for crisig, want := range map[runtime.Signal]syscall.Signal{
		runtime.Signal_SIGNAL_SIGTERM: syscall.SIGTERM, runtime.Signal_SIGNAL_SIGUSR1: syscall.SIGUSR1,
		runtime.Signal_SIGNAL_SIGQUIT: syscall.SIGQUIT, runtime.Signal_SIGNAL_SIGRTMIN: 34,
		runtime.Signal_SIGNAL_SIGRTMINPLUS3: 37, runtime.Signal_SIGNAL_SIGRTMAXMINUS2: 62, runtime.Signal_SIGNAL_SIGRTMAX: 64,
	} {
		if got := signalOf(crisig); got != want {
			t.Errorf("%s: %d, want %d", crisig, got, want)
		}
		if back := criSignal(want); back != crisig {
			t.Errorf("%d: %s, want %s", want, back, crisig)
		}
	}
	if signalOf(runtime.Signal_SIGNAL_RUNTIME_DEFAULT) != 0 {
		t.Error("no signal given must mean none")
	}
	// The CRI's field wins over the image's STOPSIGNAL; neither: SIGTERM.
	cfg := &runtime.ContainerConfig{StopSignal: runtime.Signal_SIGNAL_SIGUSR2}
	if c := (&Container{StopSignal: effectiveStopSignal(cfg, "SIGQUIT")}); c.StopSignalCRI() != runtime.Signal_SIGNAL_SIGUSR2 {
		t.Errorf("config over image: %s", c.StopSignalCRI())
	}
	if c := (&Container{StopSignal: effectiveStopSignal(&runtime.ContainerConfig{}, "SIGQUIT")}); c.StopSignalCRI() != runtime.Signal_SIGNAL_SIGQUIT {
		t.Errorf("image's: %s", c.StopSignalCRI())
	}
	if c := (&Container{}); c.StopSignalCRI() != runtime.Signal_SIGNAL_SIGTERM {
		t.Errorf("default: %s", c.StopSignalCRI())
	}
}
