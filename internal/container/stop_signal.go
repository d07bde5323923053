package container

import (
	"fmt"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// The CRI's stop signal (KEP-4960): ContainerConfig.stop_signal overrides
// the image's STOPSIGNAL; ContainerStatus reports the one in force.

// glibc's SIGRTMIN (the kernel's 32 and 33 are the C library's own).
const sigRTMin = 34

// signalOf is the Linux signal of a CRI Signal value (0: none given).
func signalOf(s runtime.Signal) syscall.Signal {
	name := strings.TrimPrefix(s.String(), "SIGNAL_")
	switch {
	case s == runtime.Signal_SIGNAL_RUNTIME_DEFAULT:
		return 0
	case name == "SIGRTMIN":
		return sigRTMin
	case name == "SIGRTMAX":
		return 64
	case strings.HasPrefix(name, "SIGRTMINPLUS"):
		n, _ := strconv.Atoi(strings.TrimPrefix(name, "SIGRTMINPLUS"))
		return syscall.Signal(sigRTMin + n)
	case strings.HasPrefix(name, "SIGRTMAXMINUS"):
		n, _ := strconv.Atoi(strings.TrimPrefix(name, "SIGRTMAXMINUS"))
		return syscall.Signal(64 - n)
	}
	return stopSignal(name)
}

// criSignal is the CRI Signal value of a Linux signal.
func criSignal(sig syscall.Signal) runtime.Signal {
	var name string
	switch {
	case sig == sigRTMin:
		name = "SIGRTMIN"
	case sig == 64:
		name = "SIGRTMAX"
	case sig > sigRTMin && sig < 49:
		name = fmt.Sprintf("SIGRTMINPLUS%d", sig-sigRTMin)
	case sig >= 49 && sig < 64:
		name = fmt.Sprintf("SIGRTMAXMINUS%d", 64-sig)
	default:
		name = unixSignalName(sig)
	}
	return runtime.Signal(runtime.Signal_value["SIGNAL_"+name])
}

// effectiveStopSignal is what a stop sends first: the CRI's field, else
// the image's STOPSIGNAL, else SIGTERM; as a name the record keeps.
func effectiveStopSignal(cfg *runtime.ContainerConfig, imageStopSignal string) string {
	if sig := signalOf(cfg.GetStopSignal()); sig != 0 {
		return strconv.Itoa(int(sig))
	}
	return imageStopSignal
}

// StopSignalCRI is the container's stop signal as the CRI names it.
func (c *Container) StopSignalCRI() runtime.Signal { return criSignal(stopSignal(c.StopSignal)) }

func unixSignalName(sig syscall.Signal) string { return unix.SignalName(sig) }
