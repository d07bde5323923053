package bench

import (
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
