package image

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"

	"github.com/berth-runtime/berth/internal/config"
)

func TestEndpointsMirrorsFirst(t *testing.T) {
	r := NewRegistries([]config.RegistryHost{
		{Host: "docker.io", Mirrors: []string{"http://127.0.0.1:5000", "https://mirror.example"}},
		{Host: "mirror.example", PlainHTTP: true},
	}, "", 0)
	ref, _ := ParseReference("busybox")
	eps := r.endpoints(ref)
	if len(eps) != 3 {
		t.Fatalf("endpoints %+v", eps)
	}
	if eps[0].host != "127.0.0.1:5000" || !eps[0].plain || !eps[0].mirror {
		t.Errorf("first mirror %+v", eps[0])
	}
	if eps[1].host != "mirror.example" || !eps[1].plain {
		t.Errorf("second mirror should take plain_http from its own host entry: %+v", eps[1])
	}
	if eps[2].host != "index.docker.io" || eps[2].plain || eps[2].mirror {
		t.Errorf("upstream %+v", eps[2])
	}
	repo, err := eps[0].repository(ref)
	if err != nil || repo.String() != "127.0.0.1:5000/library/busybox" || repo.Scheme() != "http" {
		t.Fatalf("repository %v %v", repo, err)
	}
}

func TestMirrorsOnlyHasNoUpstream(t *testing.T) {
	r := NewRegistries([]config.RegistryHost{{Host: "registry.k8s.io", Mirrors: []string{"http://127.0.0.1:5000"}, MirrorsOnly: true}}, "", 0)
	ref, _ := ParseReference("registry.k8s.io/pause:3.10")
	if eps := r.endpoints(ref); len(eps) != 1 || eps[0].host != "127.0.0.1:5000" {
		t.Fatalf("endpoints %+v, want the mirror alone", eps)
	}
}

func TestAuthenticatorPrefersRequestThenFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(file, []byte(`{"auths":{"https://index.docker.io/v1/":{"auth":"dTpw"},"quay.io":{"username":"q","password":"p"}}}`), 0o600)
	r := NewRegistries(nil, file, 0)
	check := func(host string, creds *Credentials, want authn.AuthConfig) {
		t.Helper()
		a, err := r.authenticator(host, creds)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := a.Authorization()
		if *got != want {
			t.Errorf("%s: got %+v, want %+v", host, *got, want)
		}
	}
	check("index.docker.io", nil, authn.AuthConfig{Auth: "dTpw"})
	check("quay.io", nil, authn.AuthConfig{Username: "q", Password: "p"})
	check("quay.io", &Credentials{Username: "req", Password: "x"}, authn.AuthConfig{Username: "req", Password: "x"})
	check("other.io", nil, authn.AuthConfig{})
}
