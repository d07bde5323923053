package berthinfo

import "testing"

func TestParseRestartPolicy(t *testing.T) {
	for in, want := range map[string]RestartPolicy{
		"no": {Mode: "no"}, "always": {Mode: "always"}, "unless-stopped": {Mode: "unless-stopped"},
		"on-failure": {Mode: "on-failure"}, "on-failure:3": {Mode: "on-failure", MaxRetries: 3},
	} {
		if got, err := ParseRestartPolicy(in); err != nil || got != want {
			t.Errorf("%q: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "sometimes", "always:2", "on-failure:0", "on-failure:-1", "on-failure:x", "no:1"} {
		if p, err := ParseRestartPolicy(bad); err == nil {
			t.Errorf("%q accepted as %+v", bad, p)
		}
	}
}

func TestRestartPolicyWants(t *testing.T) {
	always, onFailure2 := RestartPolicy{Mode: "always"}, RestartPolicy{Mode: "on-failure", MaxRetries: 2}
	cases := []struct {
		p        RestartPolicy
		code     int32
		stopped  bool
		restarts int
		want     bool
	}{
		{always, 0, false, 100, true},
		{always, 1, true, 0, false}, // stopped on request
		{RestartPolicy{Mode: "unless-stopped"}, 0, false, 0, true},
		{RestartPolicy{Mode: "no"}, 1, false, 0, false},
		{onFailure2, 0, false, 0, false}, // succeeded
		{onFailure2, 1, false, 1, true},
		{onFailure2, 1, false, 2, false}, // used up
		{RestartPolicy{Mode: "on-failure"}, 137, false, 1000, true},
		{onFailure2, 1, true, 0, false},
	}
	for _, c := range cases {
		if got := c.p.Wants(c.code, c.stopped, c.restarts); got != c.want {
			t.Errorf("%+v exit %d stopped %v after %d: %v, want %v", c.p, c.code, c.stopped, c.restarts, got, c.want)
		}
	}
}
