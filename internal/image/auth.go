package image

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
)

// Credentials are what a pull request may carry for its registry
// (the CRI AuthConfig).
type Credentials struct {
	Username      string
	Password      string
	Auth          string // base64 "user:password"
	IdentityToken string
	RegistryToken string
}

func (c *Credentials) empty() bool {
	return c == nil || *c == Credentials{}
}

// authenticator picks the credentials for endpoint host: the request's own,
// else the auth file's entry for that host, else anonymous.
func (r *Registries) authenticator(host string, creds *Credentials) (authn.Authenticator, error) {
	if !creds.empty() {
		return authn.FromConfig(authn.AuthConfig{
			Username: creds.Username, Password: creds.Password, Auth: creds.Auth,
			IdentityToken: creds.IdentityToken, RegistryToken: creds.RegistryToken,
		}), nil
	}
	if r.authFile == "" {
		return authn.Anonymous, nil
	}
	entries, err := readAuthFile(r.authFile)
	if err != nil {
		return nil, err
	}
	if e, ok := entries[host]; ok {
		return authn.FromConfig(e), nil
	}
	if host == "index.docker.io" {
		if e, ok := entries[defaultDomain]; ok {
			return authn.FromConfig(e), nil
		}
	}
	return authn.Anonymous, nil
}

// readAuthFile reads a docker config.json's "auths", keyed by bare host.
func readAuthFile(path string) (map[string]authn.AuthConfig, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("auth file: %w", err)
	}
	var file struct {
		Auths map[string]struct {
			Auth          string `json:"auth"`
			Username      string `json:"username"`
			Password      string `json:"password"`
			IdentityToken string `json:"identitytoken"`
			RegistryToken string `json:"registrytoken"`
		} `json:"auths"`
	}
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("auth file %s: %w", path, err)
	}
	out := map[string]authn.AuthConfig{}
	for key, a := range file.Auths {
		out[authFileHost(key)] = authn.AuthConfig{
			Username: a.Username, Password: a.Password, Auth: a.Auth,
			IdentityToken: a.IdentityToken, RegistryToken: a.RegistryToken,
		}
	}
	return out, nil
}

// authFileHost turns "https://index.docker.io/v1/" or "quay.io" into a host.
func authFileHost(key string) string {
	if strings.Contains(key, "://") {
		if u, err := url.Parse(key); err == nil {
			key = u.Host
		}
	}
	key = strings.SplitN(key, "/", 2)[0]
	if key == "index.docker.io" || key == "registry-1.docker.io" {
		return defaultDomain
	}
	return key
}
