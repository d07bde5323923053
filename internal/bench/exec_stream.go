package bench

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"time"

	restclient "k8s.io/client-go/rest"
	"k8s.io/client-go/tools/remotecommand"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// execStream times a whole interactive exec as kubectl exec does it: the
// CRI Exec call, the SPDY session on the returned URL, `true`, its exit.
func execStream(ctx context.Context, t *Target, cfg *Config, n int) ([]time.Duration, error) {
	return inRunningContainer(ctx, t, cfg, func(id string) ([]time.Duration, error) { return execStreamIn(ctx, t, id, n) })
}

func execStreamIn(ctx context.Context, t *Target, id string, n int) ([]time.Duration, error) {
	var out []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		resp, err := t.RT.Exec(ctx, &runtime.ExecRequest{ContainerId: id, Cmd: []string{"true"}, Stdout: true, Stderr: true})
		if err != nil {
			return out, fmt.Errorf("%s: Exec: %w", t.Name, err)
		}
		u, err := url.Parse(resp.Url)
		if err != nil {
			return out, err
		}
		ex, err := remotecommand.NewSPDYExecutor(&restclient.Config{}, "POST", u)
		if err != nil {
			return out, err
		}
		if err := ex.StreamWithContext(ctx, remotecommand.StreamOptions{Stdout: io.Discard, Stderr: io.Discard}); err != nil {
			return out, fmt.Errorf("%s: exec stream: %w", t.Name, err)
		}
		out = append(out, time.Since(start))
	}
	return out, nil
}
