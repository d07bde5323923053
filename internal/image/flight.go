package image

import (
	"context"
	"sync"
)

// flight coalesces concurrent calls with the same key into one execution.
// The shared work runs under its own context, cancelled only when every
// caller waiting for it has gone: one impatient caller cannot fail the rest.
// The last caller to leave waits until the cancelled work has returned.
type flight struct {
	mu    sync.Mutex
	calls map[string]*flightCall
}

type flightCall struct {
	done    chan struct{}
	val     any
	err     error
	waiters int
	cancel  context.CancelFunc
}

// Do runs fn once for key among concurrent callers and gives each the result.
func (f *flight) Do(ctx context.Context, key string, fn func(context.Context) (any, error)) (any, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]*flightCall{}
	}
	c, ok := f.calls[key]
	if !ok {
		var workCtx context.Context
		workCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		c = &flightCall{done: make(chan struct{}), cancel: cancel}
		f.calls[key] = c
		go func() {
			c.val, c.err = fn(workCtx)
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			cancel()
			close(c.done)
		}()
	}
	c.waiters++
	f.mu.Unlock()

	select {
	case <-c.done:
		return c.val, c.err
	case <-ctx.Done():
		f.mu.Lock()
		c.waiters--
		last := c.waiters == 0
		f.mu.Unlock()
		if last {
			// Nobody else wants the result: stop the work and wait for it
			// to unwind, so that the caller's cleanup sees its final state.
			c.cancel()
			<-c.done
		}
		return nil, ctx.Err()
	}
}
