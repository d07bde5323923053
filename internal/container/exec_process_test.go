package container

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/berth-runtime/berth/internal/shim"
)

// bundleWithSpec writes a spec as the kubelet's usual container gets it
// (default seccomp profile, a terminal) into a bundle dir.
func bundleWithSpec(t testing.TB) (*Container, specs.Process) {
	t.Helper()
	caps := []string{"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
		"CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"}
	s := &specs.Spec{
		Version: specs.Version,
		Process: &specs.Process{
			Terminal:        true,
			ConsoleSize:     &specs.Box{Height: 24, Width: 80},
			User:            specs.User{UID: 1000, GID: 1000, AdditionalGids: []uint32{10, 20}},
			Args:            []string{"/app", "--serve"},
			Env:             []string{"PATH=/usr/bin:/bin", "HOME=/home/app", "GREETING=a \"quoted\" value"},
			Cwd:             "/srv",
			Capabilities:    &specs.LinuxCapabilities{Bounding: caps, Effective: caps, Permitted: caps},
			Rlimits:         []specs.POSIXRlimit{{Type: "RLIMIT_NOFILE", Hard: 1024, Soft: 1024}},
			NoNewPrivileges: true,
			ApparmorProfile: "berth-default",
			OOMScoreAdj:     func() *int { v := 100; return &v }(),
		},
		Root:  &specs.Root{Path: "rootfs"},
		Linux: &specs.Linux{},
	}
	prof, err := seccomp.GetDefaultProfile(s)
	if err != nil {
		t.Fatal(err)
	}
	s.Linux.Seccomp = prof
	data, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) < 6<<10 {
		t.Fatalf("the spec is %d bytes, less than the default seccomp profile takes", len(data))
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "config.json"), data, 0o600); err != nil {
		t.Fatal(err)
	}
	return &Container{ID: "c1", Bundle: dir}, *s.Process
}

// An exec runs as the container's process does (user, environment,
// capabilities, limits, profiles), with the exec's command and without the
// container's terminal.
func TestExecProcessIsTheContainersWithTheCommand(t *testing.T) {
	c, want := bundleWithSpec(t)
	raw, err := execProcess(c, []string{"sh", "-c", "echo \"$GREETING\""})
	if err != nil {
		t.Fatal(err)
	}
	var got specs.Process
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want.Args, want.Terminal, want.ConsoleSize = []string{"sh", "-c", "echo \"$GREETING\""}, false, nil
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("exec process\n got %+v\nwant %+v", got, want)
	}
	os.WriteFile(filepath.Join(c.Bundle, "config.json"), []byte(`{"ociVersion":"1.0.2"}`), 0o600)
	if _, err := execProcess(c, []string{"true"}); err == nil {
		t.Fatal("a spec without a process gave an exec process")
	}
	os.Remove(filepath.Join(c.Bundle, "config.json"))
	if _, err := execProcess(c, []string{"true"}); err == nil {
		t.Fatal("a missing spec gave an exec process")
	}
}

// The exec process is built on every ExecSync (each exec probe of the
// kubelet).
func BenchmarkExecProcess(b *testing.B) {
	c, _ := bundleWithSpec(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := execProcess(c, []string{"true"}); err != nil {
			b.Fatal(err)
		}
	}
}

// An interactive exec gets the container's process too, with a terminal
// of the client's size and TERM set once; without a terminal it is the
// exec process.
func TestStreamProcessAddsTheTerminal(t *testing.T) {
	c, want := bundleWithSpec(t)
	raw, err := streamProcess(c, []string{"sh"}, true, &shim.TerminalSize{Width: 100, Height: 30})
	if err != nil {
		t.Fatal(err)
	}
	var got specs.Process
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want.Args, want.Terminal, want.ConsoleSize = []string{"sh"}, true, &specs.Box{Height: 30, Width: 100}
	want.Env = append(append([]string(nil), want.Env...), "TERM=xterm")
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("stream process\n got %+v\nwant %+v", got, want)
	}
	// A TERM of the container's own stays the only one.
	got = specs.Process{}
	want.Env[len(want.Env)-1] = "TERM=vt100"
	spec := specs.Spec{Version: specs.Version, Process: &want}
	data, _ := json.Marshal(spec)
	os.WriteFile(filepath.Join(c.Bundle, "config.json"), data, 0o600)
	raw, err = streamProcess(c, []string{"sh"}, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(raw, &got)
	if !reflect.DeepEqual(got.Env, want.Env) || got.ConsoleSize != nil || !got.Terminal {
		t.Fatalf("with TERM set: env %v console %v terminal %v", got.Env, got.ConsoleSize, got.Terminal)
	}
	plain, err := streamProcess(c, []string{"true"}, false, nil)
	exec, err2 := execProcess(c, []string{"true"})
	if err != nil || err2 != nil || string(plain) != string(exec) {
		t.Fatalf("without a terminal: %s %v, exec process %s %v", plain, err, exec, err2)
	}
}
