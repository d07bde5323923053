package container

import (
	"log/slog"

	"github.com/berth-runtime/berth/internal/shim/wire"
)

// LogLoss reads what a container's log could not keep so far (its shim
// counts it: a full log disk, say), and warns in berthd's log each time
// the count has grown since berthd last looked.
func (m *Manager) LogLoss(c *Container) wire.LogLoss {
	client, err := m.shimOf(c)
	if err != nil {
		return wire.LogLoss{}
	}
	loss := client.ReadLogLoss(c.ID)
	m.noteLogLoss(c.ID, loss)
	return loss
}

func (m *Manager) noteLogLoss(id string, loss wire.LogLoss) {
	if loss.Lines == 0 {
		return
	}
	m.mu.Lock()
	seen := m.logLoss[id]
	if loss.Lines > seen {
		m.logLoss[id] = loss.Lines
	}
	m.mu.Unlock()
	if loss.Lines > seen {
		slog.Warn("container log lines lost (the log could not be written)", "id", id, "lines", loss.Lines, "bytes", loss.Bytes)
	}
}
