package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Config is the workload, identical for every target.
type Config struct {
	Image   string
	Handler string
	LogDir  string
	// CgroupParent, if set, is given to every pod (kubelet-style).
	CgroupParent string
	// PullImage is the image the pull scenario pulls cold (empty: skip).
	PullImage string
}

// Scenario is one timed figure: each call of Run takes n samples.
// Heavy scenarios take fewer samples (Samples divides the iterations) and
// have their own target ratio against the second runtime (0: none).
type Scenario struct {
	Name    string
	Run     func(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error)
	Divisor int
	Target  float64
}

// Scenarios are the figures, in the order they are reported, with the
// targets the project set (the brief: every latency at most half of the
// best peer's; issue 17: a 100-pod burst 0.4x, relisting 0.5x).
var Scenarios = []Scenario{
	{Name: "pod-start", Run: podStart, Target: 0.5},
	{Name: "container-start", Run: containerStart, Target: 0.5},
	{Name: "exec-sync", Run: execSync, Target: 0.5},
	{Name: "exec-stream", Run: execStream},
	{Name: "stop-remove", Run: stopRemove, Target: 0.5},
	{Name: "pull", Run: pull, Divisor: 10, Target: 0.7},
	{Name: "batch-10", Run: batch(10), Divisor: 10},
	{Name: "batch-50", Run: batch(50), Divisor: 25},
	{Name: "batch-100", Run: batch(100), Divisor: 50, Target: 0.4},
	{Name: "list-100", Run: listWith100, Target: 0.5},
}

var seq atomic.Int64

func podConfig(t *Target, cfg *Config) *runtime.PodSandboxConfig {
	n := seq.Add(1)
	name := fmt.Sprintf("bench-%d-%d", time.Now().UnixNano()%1e6, n)
	return &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "bench", Uid: name},
		Hostname:     name,
		LogDirectory: fmt.Sprintf("%s/%s", cfg.LogDir, name),
		Linux: &runtime.LinuxPodSandboxConfig{CgroupParent: cfg.CgroupParent, SecurityContext: &runtime.LinuxSandboxSecurityContext{
			NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}}},
	}
}

func ctrConfig(t *Target, cmd ...string) *runtime.ContainerConfig {
	return &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: fmt.Sprintf("c%d", seq.Add(1))},
		Image:    &runtime.ImageSpec{Image: t.imageID},
		Command:  cmd,
		LogPath:  "c.log",
		Linux: &runtime.LinuxContainerConfig{SecurityContext: &runtime.LinuxContainerSecurityContext{
			NamespaceOptions: &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}}},
	}
}

// sleeper traps TERM so that a graceful stop is quick, as a well-behaved
// service is.
var sleeper = []string{"sh", "-c", "trap 'exit 0' TERM; sleep 3600 & wait"}

func runPod(ctx context.Context, t *Target, cfg *Config) (string, *runtime.PodSandboxConfig, error) {
	pc := podConfig(t, cfg)
	resp, err := t.RT.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: pc, RuntimeHandler: cfg.Handler})
	if err != nil {
		return "", nil, fmt.Errorf("%s: RunPodSandbox: %w", t.Name, err)
	}
	return resp.PodSandboxId, pc, nil
}

func removePod(ctx context.Context, t *Target, id string) error {
	if _, err := t.RT.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: id}); err != nil {
		return fmt.Errorf("%s: StopPodSandbox: %w", t.Name, err)
	}
	if _, err := t.RT.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: id}); err != nil {
		return fmt.Errorf("%s: RemovePodSandbox: %w", t.Name, err)
	}
	return nil
}

func startContainer(ctx context.Context, t *Target, podID string, pc *runtime.PodSandboxConfig, cmd ...string) (string, error) {
	resp, err := t.RT.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: podID, Config: ctrConfig(t, cmd...), SandboxConfig: pc})
	if err != nil {
		return "", fmt.Errorf("%s: CreateContainer: %w", t.Name, err)
	}
	if _, err := t.RT.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: resp.ContainerId}); err != nil {
		return "", fmt.Errorf("%s: StartContainer: %w", t.Name, err)
	}
	return resp.ContainerId, nil
}

func podStart(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		id, _, err := runPod(ctx, t, cfg)
		if err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
		if err := removePod(ctx, t, id); err != nil {
			return out, err
		}
	}
	return out, nil
}

func containerStart(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	podID, pc, err := runPod(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	defer removePod(ctx, t, podID)
	var out []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		id, err := startContainer(ctx, t, podID, pc, sleeper...)
		if err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
		if _, err := t.RT.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: id}); err != nil {
			return out, err
		}
	}
	return out, nil
}

// inRunningContainer runs fn with the ID of a sleeping container in a pod
// of its own, removed afterwards.
func inRunningContainer(ctx context.Context, t *Target, cfg *Config, fn func(id string) ([]time.Duration, error)) ([]time.Duration, error) {
	podID, pc, err := runPod(ctx, t, cfg)
	if err != nil {
		return nil, err
	}
	defer removePod(ctx, t, podID)
	id, err := startContainer(ctx, t, podID, pc, sleeper...)
	if err != nil {
		return nil, err
	}
	return fn(id)
}

func execSync(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	return inRunningContainer(ctx, t, cfg, func(id string) ([]time.Duration, error) { return execSyncIn(ctx, t, id, n) })
}

func execSyncIn(ctx context.Context, t *Target, id string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		resp, err := t.RT.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: id, Cmd: []string{"true"}, Timeout: 10})
		if err != nil {
			return out, fmt.Errorf("%s: ExecSync: %w", t.Name, err)
		}
		if resp.ExitCode != 0 {
			return out, fmt.Errorf("%s: ExecSync true exited %d", t.Name, resp.ExitCode)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// stopRemove times what the kubelet does to delete a pod: stop and remove
// its container, then stop and remove the sandbox.
func stopRemove(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		podID, pc, err := runPod(ctx, t, cfg)
		if err != nil {
			return out, err
		}
		id, err := startContainer(ctx, t, podID, pc, sleeper...)
		if err != nil {
			return out, err
		}
		time.Sleep(50 * time.Millisecond) // let the shell install its trap
		start := time.Now()
		if _, err := t.RT.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: 10}); err != nil {
			return out, err
		}
		if _, err := t.RT.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: id}); err != nil {
			return out, err
		}
		if err := removePod(ctx, t, podID); err != nil {
			return out, err
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}
