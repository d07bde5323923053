package keylock

import (
	"sync"
	"testing"
	"time"
)

func TestOneLockPerKeyAndNoneLeft(t *testing.T) {
	var m Map
	var held, maxHeld int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			unlock := m.Lock("k")
			mu.Lock()
			held++
			if held > maxHeld {
				maxHeld = held
			}
			mu.Unlock()
			time.Sleep(time.Millisecond)
			mu.Lock()
			held--
			mu.Unlock()
			unlock()
		}()
	}
	wg.Wait()
	if maxHeld != 1 {
		t.Fatalf("%d holders of one key at once", maxHeld)
	}
	if m.Len() != 0 {
		t.Fatalf("%d keys left", m.Len())
	}
}

func TestWaitingLockHoldsOffNewReaders(t *testing.T) {
	var m Map
	r1 := m.RLock("pod")
	locked := make(chan struct{})
	go func() {
		unlock := m.Lock("pod")
		close(locked)
		unlock()
	}()
	time.Sleep(20 * time.Millisecond) // the writer waits for r1
	r2done := make(chan struct{})
	go func() {
		unlock := m.RLock("pod")
		select {
		case <-locked:
		default:
			t.Error("a new reader went ahead of the waiting writer")
		}
		unlock()
		close(r2done)
	}()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-locked:
		t.Fatal("the writer did not wait for the reader")
	default:
	}
	r1()
	<-locked
	<-r2done
	if m.Len() != 0 {
		t.Fatalf("%d keys left", m.Len())
	}
}
