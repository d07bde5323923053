package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestParsePublish(t *testing.T) {
	got, err := parsePublish([]string{"8080:80", "127.0.0.1:5353:53/udp"})
	if err != nil || len(got) != 2 {
		t.Fatalf("%v %v", got, err)
	}
	if got[0].HostPort != 8080 || got[0].ContainerPort != 80 || got[0].Protocol != runtime.Protocol_TCP || got[0].HostIp != "" {
		t.Errorf("first %+v", got[0])
	}
	if got[1].HostIp != "127.0.0.1" || got[1].Protocol != runtime.Protocol_UDP || got[1].HostPort != 5353 {
		t.Errorf("second %+v", got[1])
	}
	// No host port: 0, a free one is picked when the pod is made.
	if got, err := parsePublish([]string{"80", "127.0.0.1::53/udp"}); err != nil || got[0].HostPort != 0 || got[0].ContainerPort != 80 ||
		got[1].HostPort != 0 || got[1].HostIp != "127.0.0.1" || got[1].Protocol != runtime.Protocol_UDP {
		t.Errorf("random host ports: %v %v", got, err)
	}
	for _, bad := range []string{"x:80", "0:80", "1:2:3:4", "70000:80", "nothost:1:2", "0"} {
		if _, err := parsePublish([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestEnvFromTheShell(t *testing.T) {
	t.Setenv("BERTH_TEST_FROM_SHELL", "shell-value")
	o := &runOptions{env: []string{"A=1", "BERTH_TEST_FROM_SHELL", "BERTH_TEST_UNSET_XYZ", "B=x=y"}}
	cfg, err := o.containerConfig("n", "img", "img", nil)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, kv := range cfg.Envs {
		got[kv.Key] = string(kv.Value)
	}
	want := map[string]string{"A": "1", "BERTH_TEST_FROM_SHELL": "shell-value", "B": "x=y"}
	if len(got) != len(want) {
		t.Fatalf("envs %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("envs %v, want %v", got, want)
		}
	}
}

func TestRunFlagsMakeTheContainerConfig(t *testing.T) {
	envFile := filepath.Join(t.TempDir(), "env")
	os.WriteFile(envFile, []byte("# comment\n\nFROM_FILE=a b\n  INDENTED=1\nEMPTY=\n"), 0o600)
	o := &runOptions{workdir: "/srv", user: "1000:2000", memory: "64m", cpus: "1.5", interactive: true, tty: true,
		entrypoint: "/bin/env", entrypointSet: true, envFiles: []string{envFile}, env: []string{"FROM_FLAG=x"}}
	cfg, err := o.containerConfig("n", "img", "img", []string{"-i"})
	if err != nil {
		t.Fatal(err)
	}
	sc, r := cfg.Linux.SecurityContext, cfg.Linux.Resources
	if cfg.WorkingDir != "/srv" || sc.RunAsUser.GetValue() != 1000 || sc.RunAsGroup.GetValue() != 2000 ||
		r.MemoryLimitInBytes != 64<<20 || r.CpuQuota != 150000 || r.CpuPeriod != 100000 ||
		!cfg.Stdin || !cfg.StdinOnce || !cfg.Tty || strings.Join(cfg.Command, " ") != "/bin/env" || strings.Join(cfg.Args, " ") != "-i" {
		t.Fatalf("config: %+v", cfg)
	}
	var envs []string
	for _, kv := range cfg.Envs {
		envs = append(envs, kv.Key+"="+string(kv.Value))
	}
	if strings.Join(envs, ";") != "FROM_FILE=a b;INDENTED=1;EMPTY=;FROM_FLAG=x" {
		t.Errorf("envs: %q", envs)
	}
	o = &runOptions{user: "nobody"}
	if cfg, err := o.containerConfig("n", "i", "i", nil); err != nil || cfg.Linux.SecurityContext.RunAsUsername != "nobody" {
		t.Errorf("-u nobody: %v %v", cfg, err)
	}
	// --entrypoint "" runs COMMAND as the whole command line.
	o = &runOptions{entrypointSet: true}
	if cfg, err := o.containerConfig("n", "i", "i", []string{"sh", "-c", "x"}); err != nil || strings.Join(cfg.Command, " ") != "sh" || strings.Join(cfg.Args, " ") != "-c x" {
		t.Errorf("--entrypoint \"\": %v %v", cfg, err)
	}
	for _, bad := range []*runOptions{{memory: "lots"}, {memory: "-1m"}, {cpus: "0"}, {cpus: "x"}, {user: "a:b"}, {user: ":1"},
		{workdir: "relative"}, {envFiles: []string{"/nonexistent"}}, {entrypointSet: true}} {
		if _, err := bad.containerConfig("n", "i", "i", nil); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	os.WriteFile(envFile, []byte("NOT A KEY=1\n"), 0o600)
	if _, err := (&runOptions{envFiles: []string{envFile}}).containerConfig("n", "i", "i", nil); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("bad env file line: %v", err)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"512": 512, "1k": 1024, "64m": 64 << 20, "2G": 2 << 30, "10b": 10} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
}

func TestDockerExitCodes(t *testing.T) {
	cases := map[error]int{
		containerFailure(errors.New(`InvalidArgument: exec: "nope": executable file not found in $PATH`)): 127,
		containerFailure(errors.New("FailedPrecondition: permission denied")):                             126,
		containerFailure(errors.New("Unknown: runc failed")):                                              125,
		usage(errors.New("bad flag")):                                                                     125,
		errors.New("unknown shorthand flag: 'z' in -z"):                                                   125,
		errors.New("unknown flag: --zz"):                                                                  125,
		errors.New(`unknown command "tagg" for "berth"`):                                                  1,
		errors.New("something else"):                                                                      1,
	}
	for err, want := range cases {
		if got := exitCode(err); got != want {
			t.Errorf("%v: exit %d, want %d", err, got, want)
		}
	}
}

func TestParseSignal(t *testing.T) {
	for in, want := range map[string]int{"KILL": 9, "sigterm": 15, "HUP": 1, "10": 10} {
		if got, err := parseSignal(in); err != nil || int(got) != want {
			t.Errorf("%s: %d %v, want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "NOSUCH", "0", "65"} {
		if _, err := parseSignal(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestHumanDurationAsDocker(t *testing.T) {
	for d, want := range map[time.Duration]string{
		0: "Less than a second", time.Second: "1 second", 42 * time.Second: "42 seconds", 61 * time.Second: "About a minute",
		5 * time.Minute: "5 minutes", 65 * time.Minute: "About an hour", 5 * time.Hour: "5 hours", 72 * time.Hour: "3 days",
		20 * 24 * time.Hour: "2 weeks", 90 * 24 * time.Hour: "3 months", 800 * 24 * time.Hour: "2 years",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("%s: %q, want %q", d, got, want)
		}
	}
}

func TestPsFiltersAndFormat(t *testing.T) {
	rows := []*psRow{
		{ID: "aaa111", Names: "web", State: "running", Image: "busybox:latest", Labels: map[string]string{"tier": "front"}},
		{ID: "bbb222", Names: "job", State: "exited", ExitCode: 3, Image: "127.0.0.1:5000/tools:1"},
	}
	pick := func(specs ...string) string {
		f, err := parsePsFilters(specs)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range rows {
			if r.match(f) {
				names = append(names, r.Names)
			}
		}
		return strings.Join(names, ",")
	}
	for want, specs := range map[string][]string{
		"web":     {"status=running"},
		"job":     {"exited=3"},
		"web,job": {"status=running", "status=exited"},
		"":        {"status=running", "name=job"},
		"web ":    {"label=tier"},
	} {
		if got := pick(specs...); got != strings.TrimSpace(want) {
			t.Errorf("%v: %q, want %q", specs, got, strings.TrimSpace(want))
		}
	}
	if pick("label=tier=back") != "" || pick("ancestor=busybox") != "web" || pick("id=bbb") != "job" {
		t.Error("label value, ancestor or id filter")
	}
	for _, bad := range []string{"colour=red", "status=sleeping", "exited=x", "name"} {
		if _, err := parsePsFilters([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestInspectTimesAreRFC3339(t *testing.T) {
	f := map[string]any{"createdAt": "1733500000123456789", "startedAt": "0", "state": "CONTAINER_RUNNING"}
	rfc3339Times(f)
	if f["createdAt"] != "2024-12-06T15:46:40.123456789Z" || f["startedAt"] != "" || f["state"] != "CONTAINER_RUNNING" {
		t.Fatalf("%v", f)
	}
}
