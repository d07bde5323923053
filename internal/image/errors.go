package image

import (
	"errors"
	"fmt"
	"net"
	"net/http"

	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// classify gives a registry error its class and names the registry.
func classify(err error, host string) error {
	if err == nil || errdefs.IsContextError(err) {
		return err
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
	var nerr net.Error
	var oerr *net.OpError
	if errors.As(err, &oerr) || errors.As(err, &nerr) {
		return fmt.Errorf("registry %s unreachable: %v: %w", host, err, errdefs.ErrUnavailable)
	}
	return fmt.Errorf("registry %s: %w", host, err)
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
