package container

import (
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func TestLogPathStaysInLogDirectory(t *testing.T) {
	if p, err := logPath("/var/log/pods/x", "c/0.log"); err != nil || p != "/var/log/pods/x/c/0.log" {
		t.Fatalf("%q %v", p, err)
	}
	for _, bad := range []string{"../y/0.log", "/etc/passwd", "c/../../0.log"} {
		if _, err := logPath("/var/log/pods/x", bad); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if p, err := logPath("", "c.log"); err != nil || p != "" {
		t.Fatalf("no log directory: %q %v", p, err)
	}
}

func TestStopSignalAndExitReason(t *testing.T) {
	cases := map[string]syscall.Signal{"": syscall.SIGTERM, "SIGQUIT": syscall.SIGQUIT, "INT": syscall.SIGINT, "9": syscall.SIGKILL, "bogus": syscall.SIGTERM}
	for in, want := range cases {
		if got := stopSignal(in); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
	if exitReason(0, false) != ReasonCompleted || exitReason(1, false) != ReasonError || exitReason(137, true) != ReasonOOMKilled {
		t.Fatal("exit reasons")
	}
}

func TestExplainCrunHybridError(t *testing.T) {
	err := explainRuntimeError(errors.New("crun create: cgroups in hybrid mode not supported, drop all controllers from cgroupv2"))
	if !strings.Contains(err.Error(), "mount -t cgroup -o hugetlb") {
		t.Fatalf("no cure given: %v", err)
	}
	plain := errors.New("other")
	if explainRuntimeError(plain) != plain {
		t.Fatal("unrelated errors must pass unchanged")
	}
}

func TestSlowEventSubscriberIsCutOffNotWaitedFor(t *testing.T) {
	m := &Manager{}
	slow, cancelSlow := m.Subscribe()
	defer cancelSlow()
	fast, cancelFast := m.Subscribe()
	defer cancelFast()
	got := 0
	done := make(chan struct{})
	go func() {
		for range fast {
			got++
		}
		close(done)
	}()
	c := &Container{ID: "c", PodID: "p"}
	for i := 0; i < 3*eventBuffer; i++ {
		m.publish(EventStarted, c) // must never block
	}
	n := 0
	for range slow {
		n++
	}
	if n != eventBuffer {
		t.Fatalf("slow subscriber got %d events before being cut off, want %d", n, eventBuffer)
	}
	cancelFast()
	<-done
	if got == 0 {
		t.Fatal("the reading subscriber got nothing")
	}
}
