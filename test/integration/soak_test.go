package integration

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// buildRaceBerthd builds berthd with the race detector, beside copies of
// the shim and pause binaries (berthd finds them beside itself).
func buildRaceBerthd(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	build := exec.Command("go", "build", "-race", "-o", filepath.Join(dir, "berthd"), "github.com/berth-runtime/berth/cmd/berthd")
	build.Env = append(os.Environ(), "CGO_ENABLED=1")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build berthd -race: %v\n%s", err, out)
	}
	for _, name := range []string{"berth-shim", "berth-pause"} {
		data, err := os.ReadFile(filepath.Join(filepath.Dir(berthdBin), name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return filepath.Join(dir, "berthd")
}

// codeTally counts the gRPC codes a load saw, with one example of each.
type codeTally struct {
	mu      sync.Mutex
	counts  map[string]int
	example map[string]string
}

func (c *codeTally) add(what string, err error) {
	code := statusCode(err)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.counts[code]++
	if _, ok := c.example[code]; !ok && err != nil {
		c.example[code] = what + ": " + err.Error()
	}
}

func (c *codeTally) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var parts []string
	for code, n := range c.counts {
		parts = append(parts, fmt.Sprintf("%s=%d", code, n))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

// TestKubeletLikeLoad (root; not in -short) drives a berthd built with
// -race the way a busy kubelet does, for BERTH_SOAK_DURATION (30s here;
// `make soak` runs 5m): 30 pods whose containers are probed with ExecSync
// every second; a relist every second (ListPodSandbox, ListContainers,
// every status, ListContainerStats, ListPodSandboxStats); two workers
// churning pods and containers with stops racing creates; pulls and
// removals of an image. It passes with no data race, no Unknown or
// Internal code, no wedged pod and no leak at the end.
func TestKubeletLikeLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	duration := 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("BERTH_SOAK_DURATION")); err == nil {
		duration = d
	}
	ti := images(t)
	b := startBerthdBinary(t, buildRaceBerthd(t), "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	const steady = 30
	var probed []string
	for i := 0; i < steady; i++ {
		pod := podConfig(t, fmt.Sprintf("steady%d", i))
		podID := runPod(t, b, pod)
		probed = append(probed, runContainer(t, b, podID, pod, ctrConfig("app", img, "sleep", "100000")))
	}
	tally := &codeTally{counts: map[string]int{}, example: map[string]string{}}
	ctx, cancel := context.WithTimeout(context.Background(), duration)
	defer cancel()
	call := func() (context.Context, context.CancelFunc) {
		return context.WithTimeout(context.Background(), time.Minute)
	}
	var wg sync.WaitGroup
	every := func(d time.Duration, fn func()) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tick := time.NewTicker(d)
			defer tick.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
					fn()
				}
			}
		}()
	}
	for _, id := range probed {
		every(time.Second, func() {
			c, done := call()
			defer done()
			resp, err := b.RT.ExecSync(c, &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"true"}, Timeout: 30})
			if err == nil && resp.ExitCode != 0 {
				err = fmt.Errorf("probe exit %d: %s", resp.ExitCode, resp.Stderr)
				tally.add("probe", fmt.Errorf("code = Unknown desc = %v", err))
				return
			}
			tally.add("probe", err)
		})
	}
	every(time.Second, func() {
		c, done := call()
		defer done()
		pods, err := b.RT.ListPodSandbox(c, &runtime.ListPodSandboxRequest{})
		tally.add("ListPodSandbox", err)
		ctrs, err := b.RT.ListContainers(c, &runtime.ListContainersRequest{})
		tally.add("ListContainers", err)
		if pods != nil {
			for _, p := range pods.Items {
				_, err := b.RT.PodSandboxStatus(c, &runtime.PodSandboxStatusRequest{PodSandboxId: p.Id})
				tally.add("PodSandboxStatus", err)
			}
		}
		if ctrs != nil {
			for _, ct := range ctrs.Containers {
				_, err := b.RT.ContainerStatus(c, &runtime.ContainerStatusRequest{ContainerId: ct.Id})
				tally.add("ContainerStatus", err)
			}
		}
		_, err = b.RT.ListContainerStats(c, &runtime.ListContainerStatsRequest{})
		tally.add("ListContainerStats", err)
		_, err = b.RT.ListPodSandboxStats(c, &runtime.ListPodSandboxStatsRequest{})
		tally.add("ListPodSandboxStats", err)
	})
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			rnd := rand.New(rand.NewSource(int64(w)))
			for n := 0; ctx.Err() == nil; n++ {
				c, done := call()
				pod := podConfig(t, fmt.Sprintf("churn%d-%d", w, n))
				resp, err := b.RT.RunPodSandbox(c, &runtime.RunPodSandboxRequest{Config: pod})
				tally.add("RunPodSandbox", err)
				if err != nil {
					done()
					continue
				}
				var cw sync.WaitGroup
				for i := 0; i < 3; i++ {
					cw.Add(1)
					go func(i int) {
						defer cw.Done()
						r, err := b.RT.CreateContainer(c, &runtime.CreateContainerRequest{PodSandboxId: resp.PodSandboxId,
							Config: ctrConfig(fmt.Sprintf("c%d", i), img, "sleep", "1000"), SandboxConfig: pod})
						tally.add("CreateContainer", err)
						if err == nil {
							_, err = b.RT.StartContainer(c, &runtime.StartContainerRequest{ContainerId: r.ContainerId})
							tally.add("StartContainer", err)
						}
					}(i)
				}
				time.Sleep(time.Duration(rnd.Intn(150)) * time.Millisecond)
				_, err = b.RT.StopPodSandbox(c, &runtime.StopPodSandboxRequest{PodSandboxId: resp.PodSandboxId})
				tally.add("StopPodSandbox", err)
				cw.Wait()
				_, err = b.RT.RemovePodSandbox(c, &runtime.RemovePodSandboxRequest{PodSandboxId: resp.PodSandboxId})
				tally.add("RemovePodSandbox", err)
				done()
			}
		}(w)
	}
	every(2*time.Second, func() {
		c, done := call()
		defer done()
		ref := ti.Ref("multilayer:latest")
		_, err := b.Images.PullImage(c, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: ref}})
		tally.add("PullImage", err)
		_, err = b.Images.RemoveImage(c, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: ref}})
		tally.add("RemoveImage", err)
	})
	wg.Wait()
	t.Logf("%s of kubelet-like load: %s", duration, tally)
	for code, ex := range tally.example {
		t.Logf("first %s: %s", code, ex)
	}
	for _, code := range []string{"Unknown", "Internal"} {
		if n := tally.counts[code]; n > 0 {
			t.Errorf("%d calls answered %s; first: %s", n, code, tally.example[code])
		}
	}
	// No pod is wedged: every probed container still answers.
	for _, id := range probed {
		if out := execOut(t, b, id, "echo", "alive"); out != "alive\n" {
			t.Errorf("container %s after the load: %q", id, out)
		}
	}
	b.removeAllPods()
	b.Stop()
	if log := b.Log(); strings.Contains(log, "WARNING: DATA RACE") {
		i := strings.Index(log, "WARNING: DATA RACE")
		t.Fatalf("berthd had a data race:\n%.4000s", log[i:])
	}
}
