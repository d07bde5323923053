package daemon

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"k8s.io/cri-streaming/pkg/streaming"

	"github.com/berth-runtime/berth/internal/config"
	"github.com/berth-runtime/berth/internal/cri"
)

// streamServer is the exec/attach/port-forward server and the HTTP server
// berthd serves it with.
type streamServer struct {
	streaming.Server
	http *http.Server
}

// Stop closes the listener and every open session.
func (s *streamServer) Stop() error { return s.http.Close() }

// startStreaming serves the exec/attach/port-forward server on a listener
// of its own, open before the URLs that name it are handed out (port 0 is
// resolved by that listen; closing it and letting the library listen again
// lost the port to another process now and then).
func startStreaming(cfg config.Streaming, rt *cri.StreamRuntime) (*streamServer, error) {
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
	hs := &http.Server{Handler: srv, TLSConfig: sc.TLSConfig, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		var err error
		if sc.TLSConfig != nil {
			err = hs.ServeTLS(l, "", "")
		} else {
			err = hs.Serve(l)
		}
		if err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Error("streaming server stopped", "err", err)
		}
	}()
	slog.Info("streaming server", "address", sc.Addr, "tls", sc.TLSConfig != nil)
	return &streamServer{Server: srv, http: hs}, nil
}
