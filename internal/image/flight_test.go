package image

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlightCoalesces(t *testing.T) {
	var f flight
	var runs atomic.Int32
	release := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			v, err := f.Do(context.Background(), "k", func(context.Context) (any, error) {
				runs.Add(1)
				<-release
				return 42, nil
			})
			if err != nil || v.(int) != 42 {
				t.Errorf("got %v %v", v, err)
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	close(release)
	wg.Wait()
	if runs.Load() != 1 {
		t.Fatalf("fn ran %d times, want 1", runs.Load())
	}
}

func TestFlightCancelsOnlyWhenAllCallersLeave(t *testing.T) {
	var f flight
	started := make(chan struct{})
	workErr := make(chan error, 1)
	fn := func(ctx context.Context) (any, error) {
		close(started)
		<-ctx.Done()
		workErr <- ctx.Err()
		return nil, ctx.Err()
	}
	ctx1, cancel1 := context.WithCancel(context.Background())
	ctx2, cancel2 := context.WithCancel(context.Background())
	errs := make(chan error, 2)
	go func() { _, err := f.Do(ctx1, "k", fn); errs <- err }()
	<-started
	go func() { _, err := f.Do(ctx2, "k", fn); errs <- err }()
	time.Sleep(20 * time.Millisecond)
	cancel1()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("first caller: %v", err)
	}
	select {
	case <-workErr:
		t.Fatal("work cancelled while a caller still waits")
	case <-time.After(50 * time.Millisecond):
	}
	cancel2()
	<-errs
	select {
	case err := <-workErr:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("work ended with %v", err)
		}
	case <-time.After(time.Second):
		t.Fatal("work not cancelled after the last caller left")
	}
}
