package daemon

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-runtime/berth/internal/berthinfo"
	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/pod"
)

// removeOnExit removes such pods: those whose containers exited while
// berthd was down at once, the others as their containers exit. It runs
// until stop is closed.
func removeOnExit(pods *pod.Manager, containers *container.Manager, stop <-chan struct{}) {
	for {
		// Subscribe first, then look at every pod: an exit in between is
		// seen either way. A subscriber that falls behind is cut off and
		// starts over here.
		events, cancel := containers.Subscribe()
		for _, p := range pods.List() {
			removeIfDone(pods, containers, p.ID)
		}
		if !followExits(pods, containers, events, stop) {
			cancel()
			return
		}
		cancel()
	}
}

// followExits handles exits until stop (false) or the subscription is
// cut off (true).
func followExits(pods *pod.Manager, containers *container.Manager, events <-chan container.Event, stop <-chan struct{}) bool {
	for {
		select {
		case <-stop:
			return false
		case e, ok := <-events:
			if !ok {
				return true
			}
			if e.Type == container.EventStopped {
				removeIfDone(pods, containers, e.PodID)
			}
		}
	}
}

// removeIfDone removes the pod if it asked for it and has containers, all
// exited.
func removeIfDone(pods *pod.Manager, containers *container.Manager, podID string) {
	p, err := pods.Get(podID)
	if err != nil || p.Config().GetAnnotations()[berthinfo.RemoveOnExitAnnotation] != "true" {
		return
	}
	n := 0
	for _, c := range containers.List() {
		if c.PodID != podID {
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
	if err := pods.Remove(ctx, podID); err != nil {
		slog.Warn("remove a pod whose containers exited", "pod", podID, "err", err)
		return
	}
	if logDir != "" && filepath.IsAbs(logDir) {
		os.RemoveAll(logDir)
	}
	slog.Info("removed a pod whose containers exited, as it asked", "pod", podID)
}
