package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"

	"k8s.io/cri-streaming/pkg/streaming"

	"github.com/berth-runtime/berth/internal/config"
	"github.com/berth-runtime/berth/internal/cri"
)

// startStreaming starts the exec/attach/port-forward server on its own
// listener (port 0 resolved now, so the URLs name the real port).
func startStreaming(cfg config.Streaming, rt *cri.StreamRuntime) (streaming.Server, error) {
	l, err := net.Listen("tcp", cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("streaming server on %s: %w", cfg.Address, err)
	}
	sc := streaming.DefaultConfig
	sc.Addr = l.Addr().String()
	sc.StreamIdleTimeout = cfg.IdleTimeout.Duration
	sc.StreamCreationTimeout = cfg.StreamCreationTimeout.Duration
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			l.Close()
			return nil, fmt.Errorf("streaming TLS: %w", err)
		}
		sc.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	}
	srv, err := streaming.NewServer(sc, rt)
	if err != nil {
		l.Close()
		return nil, err
	}
	l.Close() // the library listens itself, on the address just resolved
	go func() {
		if err := srv.Start(true); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("streaming server stopped", "err", err)
		}
	}()
	slog.Info("streaming server", "address", sc.Addr, "tls", sc.TLSConfig != nil)
	return srv, nil
}
