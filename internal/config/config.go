// Package config holds berthd's configuration: the TOML structures, the
// embedded defaults, loading and a pure validation step.
package config

import (
	_ "embed"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
)

//go:embed default.toml
var defaultTOML string

// Config is berthd's whole configuration.
type Config struct {
	// Listen is the path of the CRI unix socket.
	Listen string `toml:"listen"`
	// Root holds persistent state (images, metadata).
	Root string `toml:"root"`
	// State holds volatile state that does not survive a reboot.
	State string `toml:"state"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `toml:"log_level"`
	// ShutdownTimeout bounds how long in-flight calls may finish on SIGTERM.
	ShutdownTimeout Duration `toml:"shutdown_timeout"`

	Runtime   Runtime   `toml:"runtime"`
	Network   Network   `toml:"network"`
	Streaming Streaming `toml:"streaming"`
	Image     Image     `toml:"image"`
	Registry  Registry  `toml:"registry"`
}

// Runtime configures how containers run.
type Runtime struct {
	DefaultHandler   string             `toml:"default_handler"`
	Shim             string             `toml:"shim"`
	Pause            string             `toml:"pause"`
	PauseImage       string             `toml:"pause_image"`
	ClampOOMScoreAdj bool               `toml:"clamp_oom_score_adj"`
	ShmSize          int64              `toml:"shm_size"`
	HugepageLimits   string             `toml:"hugepage_limits"`
	Criu             string             `toml:"criu"`
	Handlers         map[string]Handler `toml:"handlers"`
}

// Handler is one OCI runtime (runc, crun) a pod can select.
type Handler struct {
	Path string `toml:"path"`
	Root string `toml:"root"`
}

// Network configures pod networking through CNI.
type Network struct {
	ConfDir        string   `toml:"conf_dir"`
	PluginDirs     []string `toml:"plugin_dirs"`
	DefaultNetwork bool     `toml:"default_network"`
	Bridge         string   `toml:"bridge"`
	Subnet         string   `toml:"subnet"`
	NoMasquerade   []string `toml:"no_masquerade"`
}

// Streaming configures the exec/attach/port-forward server.
type Streaming struct {
	Address               string   `toml:"address"`
	TLSCertFile           string   `toml:"tls_cert_file"`
	TLSKeyFile            string   `toml:"tls_key_file"`
	IdleTimeout           Duration `toml:"idle_timeout"`
	StreamCreationTimeout Duration `toml:"stream_creation_timeout"`
}

// Image configures pulling and storing images.
type Image struct {
	MaxConcurrentDownloads int      `toml:"max_concurrent_downloads"`
	PullProgressTimeout    Duration `toml:"pull_progress_timeout"`
	AuthFile               string   `toml:"auth_file"`
}

// Registry configures how registries are reached.
type Registry struct {
	Hosts []RegistryHost `toml:"hosts"`
}

// RegistryHost holds the access settings of one registry host.
type RegistryHost struct {
	Host          string   `toml:"host"`
	Mirrors       []string `toml:"mirrors"`
	PlainHTTP     bool     `toml:"plain_http"`
	SkipTLSVerify bool     `toml:"skip_tls_verify"`
	CAFile        string   `toml:"ca_file"`
	// MirrorsOnly: never fall back to the registry itself; an image that no
	// mirror serves fails (an offline node sends nothing, DNS included,
	// towards the real registry).
	MirrorsOnly bool `toml:"mirrors_only"`
}

// Duration is a time.Duration written as "10s" in TOML.
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// DefaultText is the commented default configuration file.
func DefaultText() string { return defaultTOML }

// Default returns the embedded default configuration.
func Default() *Config {
	c, err := parse(defaultTOML)
	if err != nil {
		panic(fmt.Sprintf("embedded default config: %v", err))
	}
	return c
}

// Load reads path over the defaults. An empty path yields the defaults.
// The result is not validated; call Validate.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c := Default()
	if err := decodeInto(c, string(data)); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

func parse(text string) (*Config, error) {
	c := &Config{}
	return c, decodeInto(c, text)
}

func decodeInto(c *Config, text string) error {
	md, err := toml.Decode(text, c)
	if err != nil {
		return err
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, 0, len(undecoded))
		for _, k := range undecoded {
			keys = append(keys, k.String())
		}
		sort.Strings(keys)
		return fmt.Errorf("unknown key(s): %s", strings.Join(keys, ", "))
	}
	return nil
}
