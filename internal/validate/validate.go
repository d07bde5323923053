// Package validate checks CRI requests before anything is made for them.
//
// Each check answers a caller's mistake with errdefs.ErrInvalidArgument and a
// message that names the field (as the CRI's protobuf spells it) and the
// value, so that nothing reaches the OCI runtime, CNI or the kernel that
// they would refuse later with an opaque error. The package is pure: it
// reads nothing from the host and is table-tested without root.
package validate

import (
	"fmt"
	"path"
	"strings"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// MaxID is the largest uid or gid a container may use: what the OCI
// runtimes accept (runc: "uids and gids must be in range 0-2147483647")
// and what Kubernetes validates pods against.
const MaxID = 1<<31 - 1

// fieldError builds the InvalidArgument answer for one field.
func fieldError(field string, format string, args ...any) error {
	return errdefs.InvalidArgument("%s: %s", field, fmt.Sprintf(format, args...))
}

// id checks a uid or gid that arrives as int64.
func id(field string, v int64) error {
	if v < 0 || v > MaxID {
		return fieldError(field, "%d is outside 0..%d", v, int64(MaxID))
	}
	return nil
}

// text refuses control characters (NUL, newline, ...) in a string that ends
// up in a file, an argument list or an environment.
func text(field, v string) error {
	for _, r := range v {
		if r < 0x20 || r == 0x7f {
			return fieldError(field, "%q contains the control character %U", v, r)
		}
	}
	return nil
}

// noNUL refuses NUL bytes, which no exec argument or environment can hold.
func noNUL(field, v string) error {
	if strings.ContainsRune(v, 0) {
		return fieldError(field, "%q contains a NUL byte", v)
	}
	return nil
}

// absPath checks a path that must be absolute and free of control characters.
func absPath(field, p string) error {
	if err := text(field, p); err != nil {
		return err
	}
	if !path.IsAbs(p) {
		return fieldError(field, "%q is not an absolute path", p)
	}
	return nil
}

// enum checks that v is one of the values the protobuf enum names.
func enum(field string, v int32, names map[int32]string) error {
	if _, ok := names[v]; !ok {
		return fieldError(field, "unknown value %d", v)
	}
	return nil
}
