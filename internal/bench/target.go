package bench

import (
	"context"
	"fmt"
	"strings"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Target is one CRI endpoint under test.
type Target struct {
	Name     string
	Endpoint string
	RT       runtime.RuntimeServiceClient
	Images   runtime.ImageServiceClient
	conn     *grpc.ClientConn
	// Daemon is the daemon's process name (berthd, containerd, crio) and
	// Monitors the name prefixes of its per-pod or per-container monitors.
	Daemon   string
	Monitors []string
	imageID  string
}

// Dial connects to endpoint and asks it who it is.
func Dial(ctx context.Context, endpoint string) (*Target, error) {
	addr := endpoint
	if !strings.Contains(addr, "://") {
		addr = "unix://" + addr
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, err
	}
	t := &Target{Endpoint: endpoint, conn: conn, RT: runtime.NewRuntimeServiceClient(conn), Images: runtime.NewImageServiceClient(conn)}
	v, err := t.RT.Version(ctx, &runtime.VersionRequest{})
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("%s: %w", endpoint, err)
	}
	t.Name = v.RuntimeName
	switch t.Name {
	case "berth":
		t.Daemon, t.Monitors = "berthd", []string{"berth-shim"}
	case "containerd":
		t.Daemon, t.Monitors = "containerd", []string{"containerd-shim"}
	case "cri-o":
		t.Daemon, t.Monitors = "crio", []string{"conmon"}
	default:
		t.Daemon = t.Name
	}
	return t, nil
}

// Close ends the connection.
func (t *Target) Close() { t.conn.Close() }

// Prepare pulls the image the scenarios run.
func (t *Target) Prepare(ctx context.Context, image string) error {
	resp, err := t.Images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: image}})
	if err != nil {
		return fmt.Errorf("%s: pull %s: %w", t.Name, image, err)
	}
	t.imageID = resp.ImageRef
	return nil
}
