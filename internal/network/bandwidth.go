package network

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// The pod annotations the bandwidth plugin takes, as the kubelet's
// kubenet and other runtimes read them.
const (
	ingressAnnotation = "kubernetes.io/ingress-bandwidth"
	egressAnnotation  = "kubernetes.io/egress-bandwidth"
)

// bandwidth turns the annotations into the plugin's capability argument
// (rates in bits per second).
func bandwidth(annotations map[string]string) (map[string]uint64, error) {
	out := map[string]uint64{}
	for key, name := range map[string]string{ingressAnnotation: "ingress", egressAnnotation: "egress"} {
		v, ok := annotations[key]
		if !ok {
			continue
		}
		rate, err := parseQuantity(v)
		if err != nil || rate == 0 {
			return nil, errdefs.InvalidArgument("annotation %s=%q: want a rate such as 10M", key, v)
		}
		out[name+"Rate"] = rate
		out[name+"Burst"] = 1 << 31 // bits: what kubelet's bandwidth shaping used
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// parseQuantity reads a Kubernetes quantity such as 10M, 1Gi or 500k.
func parseQuantity(s string) (uint64, error) {
	suffixes := []struct {
		s string
		m uint64
	}{{"Ki", 1 << 10}, {"Mi", 1 << 20}, {"Gi", 1 << 30}, {"Ti", 1 << 40}, {"k", 1e3}, {"M", 1e6}, {"G", 1e9}, {"T", 1e12}}
	mult := uint64(1)
	for _, suf := range suffixes {
		if strings.HasSuffix(s, suf.s) {
			s, mult = strings.TrimSuffix(s, suf.s), suf.m
			break
		}
	}
	n, err := strconv.ParseFloat(s, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("bad quantity %q", s)
	}
	return uint64(n * float64(mult)), nil
}
