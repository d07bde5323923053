package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"syscall"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// classify gives a registry error its class and names the registry.
func classify(err error, host string) error {
	if err == nil || errdefs.IsContextError(err) || errdefs.Classed(err) {
		return err // classed where it happened (a full disk is no unreachable registry)
	}
	if isVerifyError(err) {
		return fmt.Errorf("registry %s sent content that does not match its digest: %v: %w", host, err, errdefs.ErrDataLoss)
	}
	var stall *stallError
	if errors.As(err, &stall) {
		return fmt.Errorf("%v: %w", stall, errdefs.ErrUnavailable)
	}
	var terr *transport.Error
	if errors.As(err, &terr) {
		switch {
		case terr.StatusCode == http.StatusUnauthorized || terr.StatusCode == http.StatusForbidden ||
			hasCode(terr, transport.UnauthorizedErrorCode, transport.DeniedErrorCode):
			return fmt.Errorf("registry %s: authentication failed: %v: %w", host, err, errdefs.ErrUnauthenticated)
		case terr.StatusCode == http.StatusNotFound ||
			hasCode(terr, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode, transport.BlobUnknownErrorCode):
			return fmt.Errorf("registry %s: %v: %w", host, err, errdefs.ErrNotFound)
		case terr.StatusCode == http.StatusTooManyRequests:
			return fmt.Errorf("registry %s: %v: %w", host, err, errdefs.ErrResourceExhausted)
		case terr.StatusCode >= 500:
			return fmt.Errorf("registry %s: %v: %w", host, err, errdefs.ErrUnavailable)
		}
		return fmt.Errorf("registry %s: %w", host, err)
	}
	// Only the network's own errors: a syscall.Errno (ENOSPC from a
	// write, say) satisfies net.Error too.
	var oerr *net.OpError
	var uerr *url.Error
	if errors.As(err, &oerr) || errors.As(err, &uerr) {
		return fmt.Errorf("registry %s unreachable: %v: %w", host, err, errdefs.ErrUnavailable)
	}
	var serr *json.SyntaxError
	var terr2 *json.UnmarshalTypeError
	if errors.As(err, &serr) || errors.As(err, &terr2) {
		return fmt.Errorf("registry %s sent a manifest or config that is not valid JSON: %v: %w", host, err, errdefs.ErrDataLoss)
	}
	return fmt.Errorf("registry %s: %w", host, err)
}

// classifyUnpack classes what failed while a layer was stored and
// unpacked, naming the layer: a full disk is ResourceExhausted; content
// that is not a valid compressed tar (truncated, garbage, bad checksum) is
// DataLoss; refused entries are InvalidArgument already.
func classifyUnpack(err error, layer fmt.Stringer) error {
	var errno syscall.Errno
	switch {
	case err == nil || errdefs.Classed(err) || errdefs.IsContextError(err):
		return err
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		return fmt.Errorf("layer %s: no space left to store it: %v: %w", layer, err, errdefs.ErrResourceExhausted)
	case errors.As(err, &errno):
		return err // the host's own trouble, not the image's
	}
	return fmt.Errorf("layer %s: corrupt content: %v: %w", layer, err, errdefs.ErrDataLoss)
}

func hasCode(terr *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range terr.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}
