package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
)

// Validate checks every value without touching the system. The error names
// each offending key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	for key, p := range map[string]string{"listen": c.Listen, "root": c.Root, "state": c.State} {
		if !filepath.IsAbs(p) {
			bad(key, "must be an absolute path, got %q", p)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	if c.ShutdownTimeout.Duration <= 0 {
		bad("shutdown_timeout", "must be positive, got %s", c.ShutdownTimeout)
	}
	if c.Image.PullProgressTimeout.Duration < 0 {
		bad("image.pull_progress_timeout", "must not be negative, got %s", c.Image.PullProgressTimeout)
	}
	if n := c.Image.MaxConcurrentDownloads; n < 1 || n > 64 {
		bad("image.max_concurrent_downloads", "must be between 1 and 64, got %d", n)
	}
	if _, ok := c.Runtime.Handlers[c.Runtime.DefaultHandler]; !ok {
		bad("runtime.default_handler", "%q is not in runtime.handlers", c.Runtime.DefaultHandler)
	}
	for name, h := range c.Runtime.Handlers {
		if h.Path == "" {
			bad("runtime.handlers."+name+".path", "must name the runtime binary")
		}
		if h.Root != "" && !filepath.IsAbs(h.Root) {
			bad("runtime.handlers."+name+".root", "must be an absolute path, got %q", h.Root)
		}
	}
	switch c.Runtime.HugepageLimits {
	case "auto", "strict", "off":
	default:
		bad("runtime.hugepage_limits", "must be auto, strict or off, got %q", c.Runtime.HugepageLimits)
	}
	if c.Runtime.ShmSize < 1<<20 {
		bad("runtime.shm_size", "must be at least 1 MiB, got %d", c.Runtime.ShmSize)
	}
	if !filepath.IsAbs(c.Network.ConfDir) {
		bad("network.conf_dir", "must be an absolute path, got %q", c.Network.ConfDir)
	}
	if len(c.Network.PluginDirs) == 0 {
		bad("network.plugin_dirs", "must list at least one directory")
	}
	if _, _, err := net.ParseCIDR(c.Network.Subnet); err != nil {
		bad("network.subnet", "must be a CIDR such as 10.88.0.0/16, got %q", c.Network.Subnet)
	}
	for _, cidr := range c.Network.NoMasquerade {
		if _, _, err := net.ParseCIDR(cidr); err != nil {
			bad("network.no_masquerade", "must list CIDRs such as 10.89.0.0/16, got %q", cidr)
		}
	}
	if n := len(c.Network.Bridge); n == 0 || n > 15 {
		bad("network.bridge", "must be an interface name of 1 to 15 characters, got %q", c.Network.Bridge)
	}
	if _, _, err := net.SplitHostPort(c.Streaming.Address); err != nil {
		bad("streaming.address", "must be host:port, got %q", c.Streaming.Address)
	}
	if (c.Streaming.TLSCertFile == "") != (c.Streaming.TLSKeyFile == "") {
		bad("streaming.tls_cert_file", "tls_cert_file and tls_key_file go together")
	}
	if c.Streaming.IdleTimeout.Duration <= 0 || c.Streaming.StreamCreationTimeout.Duration <= 0 {
		bad("streaming.idle_timeout", "timeouts must be positive")
	}
	seen := map[string]bool{}
	for i, h := range c.Registry.Hosts {
		key := fmt.Sprintf("registry.hosts[%d]", i)
		if h.Host == "" || strings.ContainsAny(h.Host, "/ ") {
			bad(key+".host", "must be a registry host such as docker.io, got %q", h.Host)
		}
		if seen[h.Host] {
			bad(key+".host", "%q is listed twice", h.Host)
		}
		seen[h.Host] = true
		for j, m := range h.Mirrors {
			if err := validateEndpoint(m); err != nil {
				bad(fmt.Sprintf("%s.mirrors[%d]", key, j), "%v", err)
			}
		}
		if h.MirrorsOnly && len(h.Mirrors) == 0 {
			bad(key+".mirrors_only", "needs at least one mirror")
		}
	}
	return errors.Join(errs...)
}

func validateEndpoint(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must be http://host[:port] or https://host[:port], got %q", s)
	}
	if u.Host == "" || (u.Path != "" && u.Path != "/") {
		return fmt.Errorf("must be scheme://host[:port] with no path, got %q", s)
	}
	return nil
}
