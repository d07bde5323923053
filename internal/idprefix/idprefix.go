// Package idprefix finds objects by full ID or unique ID prefix, as the
// CRI's and the CLI's users type them.
package idprefix

import (
	"strings"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Find returns the item whose ID is id, else the only one whose ID starts
// with id. kind names the objects in errors ("container", "pod sandbox").
func Find[T any](items map[string]T, id, kind string) (T, error) {
	var zero T
	if id == "" {
		return zero, errdefs.InvalidArgument("%s ID is required", kind)
	}
	if item, ok := items[id]; ok {
		return item, nil
	}
	found, n := zero, 0
	for itemID, item := range items {
		if strings.HasPrefix(itemID, id) {
			found, n = item, n+1
		}
	}
	switch n {
	case 0:
		return zero, errdefs.NotFound("%s %q not found", kind, id)
	case 1:
		return found, nil
	}
	return zero, errdefs.InvalidArgument("%s ID prefix %q is ambiguous", kind, id)
}
