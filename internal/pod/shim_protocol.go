package pod

import (
	"context"
	"log/slog"
	"time"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// ShimProtocol is the protocol version the pod's shim speaks (asked once,
// then remembered): wire.Version for shims of this build, lower for shims
// an older berthd started, which keep running across upgrades and are
// driven with the ops their version has. 0 while the shim cannot be asked.
func (m *Manager) ShimProtocol(ctx context.Context, s *Sandbox) int {
	if v, ok := m.shimProtocols.Load(s.ID); ok {
		return v.(int)
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	v, err := m.Shim(s).Version(ctx)
	if err != nil {
		return 0
	}
	m.shimProtocols.Store(s.ID, v)
	return v
}

// noteShimProtocol asks a recovered pod's shim its protocol, and says so
// when it is an older one.
func (m *Manager) noteShimProtocol(s *Sandbox) {
	if v := m.ShimProtocol(context.Background(), s); v > 0 && v != wire.Version {
		slog.Info("the pod's shim is from another berth release; it is driven with its own protocol",
			"pod", s.ID, "shimProtocol", v, "berthdProtocol", wire.Version)
	}
}
