package bench

import (
	"fmt"
	"testing"
	"time"
)

func TestSummarise(t *testing.T) {
	var s []time.Duration
	for i := 100; i >= 1; i-- {
		s = append(s, time.Duration(i)*time.Millisecond)
	}
	st := Summarise(s)
	if st.Count != 100 || st.P50 != 50*time.Millisecond || st.P95 != 95*time.Millisecond || st.P99 != 99*time.Millisecond {
		t.Fatalf("%+v", st)
	}
	if st.Mean != 50500*time.Microsecond {
		t.Fatalf("mean %v", st.Mean)
	}
	if one := Summarise([]time.Duration{7}); one.P50 != 7 || one.P99 != 7 {
		t.Fatalf("single sample %+v", one)
	}
	if Summarise(nil).Count != 0 {
		t.Fatal("empty")
	}
}

func TestAlternateInterleavesTargets(t *testing.T) {
	var order []int
	if err := alternate(3, 2, func(i int) error { order = append(order, i); return nil }); err != nil {
		t.Fatal(err)
	}
	want := []int{0, 1, 0, 1, 0, 1}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order %v, want %v", order, want)
		}
	}
	calls := 0
	boom := alternate(3, 2, func(i int) error {
		calls++
		if calls == 3 {
			return errBoom
		}
		return nil
	})
	if boom != errBoom || calls != 3 {
		t.Fatalf("an error stops the run: %v after %d calls", boom, calls)
	}
}

var errBoom = fmt.Errorf("boom")
