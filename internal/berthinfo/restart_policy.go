package berthinfo

import (
	"fmt"
	"strconv"
	"strings"
)

// RestartPolicy is a parsed RestartPolicyAnnotation.
type RestartPolicy struct {
	// Mode is "no", "always", "unless-stopped" or "on-failure".
	Mode string
	// MaxRetries bounds on-failure's restarts; 0 is no bound.
	MaxRetries int
}

// ParseRestartPolicy reads docker's --restart values: no, always,
// unless-stopped, on-failure or on-failure:N (N > 0).
func ParseRestartPolicy(s string) (RestartPolicy, error) {
	mode, max, hasMax := strings.Cut(s, ":")
	switch mode {
	case "no", "always", "unless-stopped":
		if hasMax {
			return RestartPolicy{}, fmt.Errorf("restart policy %q: only on-failure takes a count", s)
		}
		return RestartPolicy{Mode: mode}, nil
	case "on-failure":
		p := RestartPolicy{Mode: mode}
		if hasMax {
			n, err := strconv.Atoi(max)
			if err != nil || n <= 0 {
				return RestartPolicy{}, fmt.Errorf("restart policy %q: the count must be a number above 0", s)
			}
			p.MaxRetries = n
		}
		return p, nil
	}
	return RestartPolicy{}, fmt.Errorf("restart policy %q: want no, always, unless-stopped or on-failure[:N]", s)
}

// Wants tells whether a container that exited with exitCode, not on
// request, after restarts restarts so far, starts again.
func (p RestartPolicy) Wants(exitCode int32, stopRequested bool, restarts int) bool {
	switch {
	case stopRequested || p.Mode == "no" || p.Mode == "":
		return false
	case p.Mode == "on-failure":
		return exitCode != 0 && (p.MaxRetries == 0 || restarts < p.MaxRetries)
	}
	return true
}
