package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultIsValid(t *testing.T) {
	c := Default()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Listen != "/run/berth/berth.sock" || c.Root != "/var/lib/berth" || c.State != "/run/berth" {
		t.Fatalf("unexpected default paths: %+v", c)
	}
	if len(c.Runtime.Handlers) != 2 || c.Runtime.Handlers["runc"].Path != "runc" || c.Runtime.DefaultHandler != "runc" {
		t.Fatalf("runtime handlers: %+v", c.Runtime)
	}
	if c.ShutdownTimeout.Duration != 10*time.Second || c.Image.MaxConcurrentDownloads != 3 {
		t.Fatalf("unexpected defaults: %+v", c)
	}
}

func writeConfig(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "berth.toml")
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadOverridesDefaults(t *testing.T) {
	p := writeConfig(t, `
root = "/tmp/r"
[image]
max_concurrent_downloads = 5
[[registry.hosts]]
host = "docker.io"
mirrors = ["http://127.0.0.1:5000"]
`)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	if c.Root != "/tmp/r" || c.State != "/run/berth" || c.Image.MaxConcurrentDownloads != 5 {
		t.Fatalf("override not applied: %+v", c)
	}
	if len(c.Registry.Hosts) != 1 || c.Registry.Hosts[0].Mirrors[0] != "http://127.0.0.1:5000" {
		t.Fatalf("hosts: %+v", c.Registry.Hosts)
	}
}

func TestUnknownKeyIsNamed(t *testing.T) {
	_, err := Load(writeConfig(t, "[image]\nmax_downloads = 2\n"))
	if err == nil || !strings.Contains(err.Error(), "image.max_downloads") {
		t.Fatalf("want error naming image.max_downloads, got %v", err)
	}
}

func TestInvalidValuesAreNamed(t *testing.T) {
	cases := map[string]string{
		`log_level = "loud"`:                                    "log_level",
		`root = "relative"`:                                     "root",
		`shutdown_timeout = "0s"`:                               "shutdown_timeout",
		"[image]\nmax_concurrent_downloads = 0":                 "image.max_concurrent_downloads",
		"[[registry.hosts]]\nhost = \"\"":                       "registry.hosts[0].host",
		"[[registry.hosts]]\nhost=\"a\"\nmirrors=[\"ftp://x\"]": "registry.hosts[0].mirrors[0]",
		"[network]\nno_masquerade = [\"10.1.0.0\"]":             "network.no_masquerade",
	}
	for text, key := range cases {
		c, err := Load(writeConfig(t, text))
		if err == nil {
			err = c.Validate()
		}
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("%q: want error naming %s, got %v", text, key, err)
		}
	}
}

func TestBadDurationFailsLoad(t *testing.T) {
	if _, err := Load(writeConfig(t, `shutdown_timeout = "soon"`)); err == nil {
		t.Fatal("want an error for an unparsable duration")
	}
}

func TestContribExampleIsValid(t *testing.T) {
	c, err := Load("../../contrib/berth.toml")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}
