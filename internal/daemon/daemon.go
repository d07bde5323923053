// Package daemon wires berthd's parts together and runs its gRPC server:
// the root lock, the socket, and an orderly shutdown.
package daemon

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"time"

	"google.golang.org/grpc"

	"github.com/berth-runtime/berth/internal/config"
	"github.com/berth-runtime/berth/internal/cri"
	"github.com/berth-runtime/berth/internal/handlerprobe"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/memtrim"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/stats"
	"github.com/berth-runtime/berth/internal/store"
)

// Daemon is a running berthd.
type Daemon struct {
	cfg      *config.Config
	lock     *os.File
	db       *store.DB
	grpc     *grpc.Server
	listener net.Listener
	stream   *streamServer
	probes   *handlerprobe.Set
	idle     *memtrim.Idle
	// background runs beside serving until its channel is closed.
	background func(stop <-chan struct{})
}

// New sets up berthd from a validated configuration: it takes the root
// lock, opens the stores and creates the socket. Nothing is served yet.
func New(cfg *config.Config) (_ *Daemon, err error) {
	d := &Daemon{cfg: cfg}
	defer func() {
		if err != nil {
			d.close()
		}
	}()
	if err := makePrivateDirs(cfg); err != nil {
		return nil, err
	}
	if d.lock, err = lockRoot(cfg.Root); err != nil {
		return nil, err
	}
	if d.db, err = store.Open(filepath.Join(cfg.Root, "meta.db")); err != nil {
		return nil, err
	}
	images, err := image.NewService(image.Options{
		Dir:        filepath.Join(cfg.Root, "images"),
		DB:         d.db,
		Registries: image.NewRegistries(cfg.Registry.Hosts, cfg.Image.AuthFile, cfg.Image.PullProgressTimeout.Duration),
		Jobs:       cfg.Image.MaxConcurrentDownloads,
	})
	if err != nil {
		return nil, err
	}
	net, err := network.New(network.Options{
		ConfDir: cfg.Network.ConfDir, BinDirs: cfg.Network.PluginDirs, StateDir: filepath.Join(cfg.State, "cni"),
		DefaultNetwork: cfg.Network.DefaultNetwork, Bridge: cfg.Network.Bridge, Subnet: cfg.Network.Subnet,
		NoMasquerade: cfg.Network.NoMasquerade,
	})
	if err != nil {
		return nil, err
	}
	d.idle = memtrim.NewIdle(2 * time.Second) // memory is given back after each burst of calls
	pods, containers, handlers, err := d.runtimeParts(images, net)
	if err != nil {
		return nil, err
	}
	recoverRuntime(cfg.State, pods, containers)
	images.CollectGarbage() // only now that containers retained their layers
	exits := &exitPolicies{pods: pods, containers: containers, backoff: map[string]time.Duration{}}
	d.background = exits.follow
	if d.stream, err = startStreaming(cfg.Streaming, &cri.StreamRuntime{Containers: containers, Pods: pods}); err != nil {
		return nil, err
	}
	server := cri.NewServer(cri.Options{
		Images: images, Pods: pods, Containers: containers, Network: net, Stream: d.stream, Stats: stats.NewCollector(),
		Handlers: handlers, Reports: d.probes, DefaultHandler: cfg.Runtime.DefaultHandler,
	})
	d.grpc = grpc.NewServer(
		grpc.ChainUnaryInterceptor(cri.UnaryInterceptor(d.idle.Touch)),
		grpc.ChainStreamInterceptor(cri.StreamInterceptor),
		grpc.MaxRecvMsgSize(16<<20), grpc.MaxSendMsgSize(32<<20), grpc.ForceServerCodecV2(server.Codec()),
	)
	server.Register(d.grpc)
	// The handler probes ran beside recovery; none may still run once
	// calls are served (a crash mid-probe would leave its container).
	d.probes.Wait()
	if d.listener, err = listenUnix(cfg.Listen); err != nil {
		return nil, err
	}
	return d, nil
}

// Serve answers CRI calls until ctx is cancelled, then stops accepting,
// lets in-flight calls finish within the shutdown timeout and cleans up.
func (d *Daemon) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- d.grpc.Serve(d.listener) }()
	stopTrim := make(chan struct{})
	defer close(stopTrim)
	go memtrim.Every(time.Minute, stopTrim)
	if d.background != nil {
		go d.background(stopTrim)
	}
	slog.Info("berthd serving", "socket", d.cfg.Listen, "root", d.cfg.Root, "state", d.cfg.State, "pid", os.Getpid())
	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		slog.Info("berthd shutting down", "timeout", d.cfg.ShutdownTimeout.Duration)
		d.gracefulStop(d.cfg.ShutdownTimeout.Duration)
		err = <-errc
	}
	d.close()
	if errors.Is(err, grpc.ErrServerStopped) {
		err = nil
	}
	return err
}

func (d *Daemon) gracefulStop(timeout time.Duration) {
	done := make(chan struct{})
	go func() { d.grpc.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		slog.Warn("in-flight calls did not finish in time; closing them")
		d.grpc.Stop()
		<-done
	}
}

func (d *Daemon) close() {
	if d.idle != nil {
		d.idle.Stop()
	}
	d.probes.Wait()
	if d.stream != nil {
		d.stream.Stop()
	}
	if d.listener != nil {
		d.listener.Close()
		os.Remove(d.cfg.Listen)
	}
	if d.db != nil {
		d.db.Close()
	}
	if d.lock != nil {
		d.lock.Close()
	}
}
