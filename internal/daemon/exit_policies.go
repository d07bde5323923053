package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/berth-runtime/berth/internal/berthinfo"
	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/pod"
)

// exitPolicies carries out what pods ask berthd to do when their
// containers exit (berthinfo.RemoveOnExitAnnotation,
// berthinfo.RestartPolicyAnnotation), on pods the kubelet does not manage.
type exitPolicies struct {
	pods       *pod.Manager
	containers *container.Manager

	mu      sync.Mutex
	backoff map[string]time.Duration // container ID -> the last wait before a restart
}

// Restart backoff, as docker's: 100 ms, doubling up to a minute, back to
// the start once a run lasted resetAfter.
const (
	firstBackoff = 100 * time.Millisecond
	maxBackoff   = time.Minute
	resetAfter   = 10 * time.Second
)

// follow handles exits until stop is closed: first those that happened
// while berthd was down, then each as it comes.
func (x *exitPolicies) follow(stop <-chan struct{}) {
	for {
		// Subscribe first, then look at every pod: an exit in between is
		// seen either way. A subscriber that falls behind is cut off and
		// starts over here.
		events, cancel := x.containers.Subscribe()
		for _, p := range x.pods.List() {
			x.podExited(p.ID)
		}
		more := x.followEvents(events, stop)
		cancel()
		if !more {
			return
		}
	}
}

// followEvents handles exits until stop (false) or the subscription is
// cut off (true).
func (x *exitPolicies) followEvents(events <-chan container.Event, stop <-chan struct{}) bool {
	for {
		select {
		case <-stop:
			return false
		case e, ok := <-events:
			if !ok {
				return true
			}
			switch e.Type {
			case container.EventStopped:
				x.podExited(e.PodID)
			case container.EventDeleted:
				x.mu.Lock()
				delete(x.backoff, e.ContainerID)
				x.mu.Unlock()
			}
		}
	}
}

// podExited applies the pod's policies after one of its containers exited.
func (x *exitPolicies) podExited(podID string) {
	p, err := x.pods.Get(podID)
	if err != nil || p.Config().GetLabels()[berthinfo.KubeletPodLabel] != "" {
		return
	}
	annotations := p.Config().GetAnnotations()
	if v, ok := annotations[berthinfo.RestartPolicyAnnotation]; ok {
		policy, err := berthinfo.ParseRestartPolicy(v)
		if err != nil {
			slog.Warn("pod annotation ignored", "pod", podID, "err", err)
			return
		}
		for _, c := range x.containers.List() {
			if c.PodID == podID && c.State == container.StateExited && policy.Wants(c.ExitCode, c.StopRequested, c.RestartCount) {
				x.restartLater(c)
			}
		}
		return
	}
	if annotations[berthinfo.RemoveOnExitAnnotation] == "true" {
		x.removeIfDone(p)
	}
}

// restartLater starts the container again after its backoff.
func (x *exitPolicies) restartLater(c *container.Container) {
	wait := firstBackoff
	x.mu.Lock()
	if last, ok := x.backoff[c.ID]; ok && c.FinishedAt.Sub(c.StartedAt) < resetAfter {
		wait = min(2*last, maxBackoff)
	}
	x.backoff[c.ID] = wait
	x.mu.Unlock()
	time.AfterFunc(wait, func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		cur, err := x.containers.Get(c.ID)
		if err != nil || cur.State != container.StateExited || cur.RestartCount != c.RestartCount {
			return // removed, or started by someone else meanwhile
		}
		if err := x.containers.Restart(ctx, c.ID); err != nil {
			slog.Warn("restart a container as its pod's restart policy asks", "container", c.ID, "err", err)
			return
		}
		slog.Info("restarted a container as its pod's restart policy asks", "container", c.ID,
			"exitCode", c.ExitCode, "restarts", c.RestartCount+1, "waited", wait)
	})
}

// removeIfDone removes the pod, and the log directory it names, if it has
// containers, all exited.
func (x *exitPolicies) removeIfDone(p *pod.Sandbox) {
	n := 0
	for _, c := range x.containers.List() {
		if c.PodID != p.ID {
			continue
		}
		if c.State != container.StateExited {
			return
		}
		n++
	}
	if n == 0 {
		return // not started yet
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	logDir := p.Config().GetLogDirectory()
	if err := x.pods.Remove(ctx, p.ID); err != nil {
		slog.Warn("remove a pod whose containers exited", "pod", p.ID, "err", err)
		return
	}
	if logDir != "" && filepath.IsAbs(logDir) {
		os.RemoveAll(logDir)
	}
	slog.Info("removed a pod whose containers exited, as it asked", "pod", p.ID)
}
