package idprefix

import (
	"testing"

	"github.com/berth-runtime/berth/internal/errdefs"
)

func TestFind(t *testing.T) {
	items := map[string]int{"abc123": 1, "abd456": 2, "ab": 3}
	for _, tc := range []struct {
		id   string
		want int
		err  error
	}{
		{"abc123", 1, nil},
		{"ab", 3, nil}, // a full ID wins over the prefixes it is of
		{"abc", 1, nil},
		{"abd", 2, nil},
		{"a", 0, errdefs.ErrInvalidArgument}, // ambiguous
		{"zz", 0, errdefs.ErrNotFound},
		{"", 0, errdefs.ErrInvalidArgument},
	} {
		got, err := Find(items, tc.id, "thing")
		if tc.err != nil {
			if !errdefs.Is(err, tc.err) {
				t.Errorf("%q: error %v, want class %v", tc.id, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q: %d %v, want %d", tc.id, got, err, tc.want)
		}
	}
}
