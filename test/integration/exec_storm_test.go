package integration

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestExecSyncStorm (root): 500 ExecSync at once across 20 pods, as the
// probes of a busy node come, then 300 at once into one pod (more than a
// listen backlog of 128 holds): every one succeeds (a full shim accept
// queue is waited out, never reported as "shim is not running").
func TestExecSyncStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("500 runtime execs")
	}
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	const pods, perPod = 20, 25
	var ids []string
	for i := 0; i < pods; i++ {
		pod := podConfig(t, fmt.Sprintf("storm%d", i))
		podID := runPod(t, b, pod)
		ids = append(ids, runContainer(t, b, podID, pod, ctrConfig("c", img, "sleep", "1000")))
	}
	var all []string
	for _, id := range ids {
		for j := 0; j < perPod; j++ {
			all = append(all, id)
		}
	}
	storm(t, b, all)
	var one []string
	for j := 0; j < 300; j++ {
		one = append(one, ids[0])
	}
	storm(t, b, one)
}

// storm runs one ExecSync per entry of ids, all at once.
func storm(t *testing.T, b *berthd, ids []string) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	start := time.Now()
	for j, id := range ids {
		{
			wg.Add(1)
			go func(id string, j int) {
				defer wg.Done()
				resp, err := b.RT.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"echo", fmt.Sprint(j)}, Timeout: 150})
				if err == nil && (resp.ExitCode != 0 || strings.TrimSpace(string(resp.Stdout)) != fmt.Sprint(j)) {
					err = fmt.Errorf("exit %d stdout %q stderr %q", resp.ExitCode, resp.Stdout, resp.Stderr)
				}
				if err != nil {
					mu.Lock()
					failures = append(failures, err.Error())
					mu.Unlock()
				}
			}(id, j)
		}
	}
	wg.Wait()
	t.Logf("%d ExecSync in %v", len(ids), time.Since(start))
	if len(failures) > 0 {
		t.Fatalf("%d of %d ExecSync failed; first: %s", len(failures), len(ids), failures[0])
	}
}
