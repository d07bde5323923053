package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// batch starts n pods with one container each in parallel and times how
// long until all run (one sample per call; the kubelet starts pods in
// parallel after a node drain or a deployment scale-up).
func batch(size int) func(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	return func(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
		var out []time.Duration
		for i := 0; i < n; i++ {
			d, err := batchOnce(ctx, t, cfg, size)
			if err != nil {
				return out, err
			}
			out = append(out, d)
		}
		return out, nil
	}
}

func batchOnce(ctx context.Context, t *Target, cfg *Config, size int) (time.Duration, error) {
	ids := make([]string, size)
	errs := make([]error, size)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < size; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			podID, pc, err := runPod(ctx, t, cfg)
			ids[i], errs[i] = podID, err
			if err == nil {
				_, errs[i] = startContainer(ctx, t, podID, pc, sleeper...)
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	removeAll(ctx, t, ids)
	for _, err := range errs {
		if err != nil {
			return 0, err
		}
	}
	return took, nil
}

// removeAll removes pods in parallel (untimed cleanup).
func removeAll(ctx context.Context, t *Target, ids []string) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 10)
	for _, id := range ids {
		if id == "" {
			continue
		}
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			removePod(ctx, t, id)
			<-sem
		}()
	}
	wg.Wait()
}

// listWith100 times ListContainers and ListPodSandbox with 100 pods present.
func listWith100(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	ids := make([]string, 0, 100)
	defer func() { removeAll(ctx, t, ids) }()
	for i := 0; i < 100; i++ {
		podID, pc, err := runPod(ctx, t, cfg)
		if err != nil {
			return nil, err
		}
		ids = append(ids, podID)
		if _, err := startContainer(ctx, t, podID, pc, sleeper...); err != nil {
			return nil, err
		}
	}
	var out []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		cl, err := t.RT.ListContainers(ctx, &runtime.ListContainersRequest{})
		if err != nil {
			return out, err
		}
		pl, err := t.RT.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
		if err != nil {
			return out, err
		}
		if len(cl.Containers) < 100 || len(pl.Items) < 100 {
			return out, fmt.Errorf("%s lists %d containers and %d pods, want 100 each", t.Name, len(cl.Containers), len(pl.Items))
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}

// pull times a cold pull of cfg.PullImage: the image is removed first.
func pull(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	if cfg.PullImage == "" {
		return nil, nil
	}
	var out []time.Duration
	for i := 0; i < n; i++ {
		t.Images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: cfg.PullImage}})
		start := time.Now()
		if _, err := t.Images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: cfg.PullImage}}); err != nil {
			return out, fmt.Errorf("%s: pull %s: %w", t.Name, cfg.PullImage, err)
		}
		out = append(out, time.Since(start))
	}
	t.Images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: cfg.PullImage}})
	return out, nil
}
