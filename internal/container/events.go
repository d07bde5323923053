package container

import (
	"sync"
	"time"
)

// EventType is what happened to a container.
type EventType int

// Container events, as the kubelet's evented PLEG consumes them.
const (
	EventCreated EventType = iota
	EventStarted
	EventStopped
	EventDeleted
)

// Event is one change of a container.
type Event struct {
	Type        EventType
	ContainerID string
	PodID       string
	Time        time.Time
}

// eventBuffer is how far a subscriber may fall behind before it is cut off.
const eventBuffer = 1024

// eventHub fans container events out. A subscriber that does not keep up
// is dropped (its channel closed) rather than allowed to block the runtime.
type eventHub struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// Subscribe returns a channel of events, closed if the subscriber falls
// behind, and the function that ends the subscription.
func (m *Manager) Subscribe() (<-chan Event, func()) {
	h := &m.events
	ch := make(chan Event, eventBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[chan Event]struct{}{}
	}
	h.subs[ch] = struct{}{}
	h.mu.Unlock()
	return ch, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		if _, ok := h.subs[ch]; ok {
			delete(h.subs, ch)
			close(ch)
		}
	}
}

func (m *Manager) publish(t EventType, c *Container) {
	e := Event{Type: t, ContainerID: c.ID, PodID: c.PodID, Time: time.Now().UTC()}
	h := &m.events
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.subs {
		select {
		case ch <- e:
		default:
			delete(h.subs, ch)
			close(ch)
		}
	}
}
