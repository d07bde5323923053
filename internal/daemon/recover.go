package daemon

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/pod"
)

// recoverRuntime brings pods and containers back after berthd stopped,
// crashed or the host rebooted, before any call is served. The order
// matters: half-made containers are undone through their pods' shims
// before half-made pods are; containers' exits are watched again before
// interrupted pod stops wait for them; runtime state is swept last, when
// every known ID is settled.
func recoverRuntime(stateDir string, pods *pod.Manager, containers *container.Manager) {
	start := time.Now()
	ctx := context.Background()
	rebooted := bootChanged(stateDir)
	containers.DiscardOrphans(ctx)
	pods.DiscardOrphans(ctx)
	pods.MarkLost(ctx, rebooted)
	containers.Recover(ctx)
	pods.FinishInterrupted(ctx)
	pods.WatchShims()
	containers.SweepRuntimeState(func(id string) bool { _, err := pods.Get(id); return err == nil })
	recordBoot(stateDir)
	slog.Debug("runtime recovered", "took", time.Since(start), "rebooted", rebooted)
}

const bootIDFile = "boot_id"

// bootChanged tells whether the host booted since berthd last recorded the
// boot in its state dir (a state dir on disk survives a reboot; the pods'
// mounts and processes do not).
func bootChanged(stateDir string) bool {
	last, err := os.ReadFile(filepath.Join(stateDir, bootIDFile))
	if err != nil {
		return false // a fresh state dir: pods whose directory is missing are lost anyway
	}
	now, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return err == nil && !bytes.Equal(bytes.TrimSpace(last), bytes.TrimSpace(now))
}

func recordBoot(stateDir string) {
	if now, err := os.ReadFile("/proc/sys/kernel/random/boot_id"); err == nil {
		_ = os.WriteFile(filepath.Join(stateDir, bootIDFile), now, 0o600)
	}
}
