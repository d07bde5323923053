// Package bench drives a CRI endpoint through timed scenarios and
// measures the memory of its daemon and monitors. It speaks plain CRI, so
// the same workload runs against berth, containerd or CRI-O.
package bench

import (
	"sort"
	"time"
)

// Stats summarises the samples of one figure.
type Stats struct {
	Count int           `json:"count"`
	P50   time.Duration `json:"p50"`
	P95   time.Duration `json:"p95"`
	P99   time.Duration `json:"p99"`
	Mean  time.Duration `json:"mean"`
}

// Summarise computes percentiles (nearest rank) of samples.
func Summarise(samples []time.Duration) Stats {
	if len(samples) == 0 {
		return Stats{}
	}
	s := append([]time.Duration(nil), samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return Stats{Count: len(s), P50: rank(s, 50), P95: rank(s, 95), P99: rank(s, 99), Mean: sum / time.Duration(len(s))}
}

// rank is the nearest-rank percentile of sorted samples.
func rank(sorted []time.Duration, p int) time.Duration {
	i := (p*len(sorted) + 99) / 100 // ceil(p/100 * n)
	if i < 1 {
		i = 1
	}
	return sorted[i-1]
}
