package image

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/berth-runtime/berth/internal/config"
)

// Registries knows how to reach each registry host: its mirrors, whether it
// speaks plain HTTP and which TLS settings its connections use.
type Registries struct {
	hosts    map[string]config.RegistryHost
	authFile string
	stall    time.Duration // see config image.pull_progress_timeout

	mu         sync.Mutex
	transports map[string]http.RoundTripper
}

// NewRegistries builds the registry access table from the configuration;
// an exchange silent for stall is cut (0: never).
func NewRegistries(hosts []config.RegistryHost, authFile string, stall time.Duration) *Registries {
	r := &Registries{hosts: map[string]config.RegistryHost{}, authFile: authFile, stall: stall, transports: map[string]http.RoundTripper{}}
	for _, h := range hosts {
		r.hosts[h.Host] = h
	}
	return r
}

// endpoint is one place an image can be fetched from.
type endpoint struct {
	host   string // host[:port] as dialled
	plain  bool   // plain HTTP
	mirror bool
}

// endpoints lists where ref's repository can be fetched from: its mirrors
// in order, then the registry itself unless the host is mirrors_only.
func (r *Registries) endpoints(ref Reference) []endpoint {
	var out []endpoint
	h := r.hosts[ref.Domain]
	for _, m := range h.Mirrors {
		u, err := url.Parse(m)
		if err != nil {
			continue // rejected by config validation
		}
		out = append(out, endpoint{host: u.Host, plain: u.Scheme == "http" || r.hosts[u.Host].PlainHTTP, mirror: true})
	}
	if h.MirrorsOnly {
		return out
	}
	host := ref.Domain
	if host == defaultDomain {
		host = "index.docker.io"
	}
	return append(out, endpoint{host: host, plain: h.PlainHTTP})
}

// pushEndpoint is where a push of ref goes: its own registry, never a
// mirror.
func (r *Registries) pushEndpoint(ref Reference) endpoint {
	host := ref.Domain
	if host == defaultDomain {
		host = "index.docker.io"
	}
	return endpoint{host: host, plain: r.hosts[ref.Domain].PlainHTTP}
}

// repository names ref's repository on endpoint e.
func (e endpoint) repository(ref Reference) (name.Repository, error) {
	opts := []name.Option{name.StrictValidation}
	if e.plain {
		opts = append(opts, name.Insecure)
	}
	return name.NewRepository(e.host+"/"+ref.Path, opts...)
}

// transport returns the shared HTTP transport for host, honouring its TLS
// settings. Transports are kept so connections are reused across pulls.
func (r *Registries) transport(host string) (http.RoundTripper, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if t, ok := r.transports[host]; ok {
		return t, nil
	}
	h := r.hosts[host]
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 16
	if h.SkipTLSVerify || h.CAFile != "" {
		tc := &tls.Config{InsecureSkipVerify: h.SkipTLSVerify} //nolint:gosec // operator's explicit choice
		if h.CAFile != "" {
			pem, err := os.ReadFile(h.CAFile)
			if err != nil {
				return nil, fmt.Errorf("registry %s: ca_file: %w", host, err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("registry %s: ca_file %s holds no PEM certificate", host, h.CAFile)
			}
			tc.RootCAs = pool
		}
		t.TLSClientConfig = tc
	}
	var rt http.RoundTripper = t
	if r.stall > 0 {
		rt = &stallTransport{next: t, stall: r.stall}
	}
	r.transports[host] = rt
	return rt, nil
}
