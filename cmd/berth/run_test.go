package main

import (
	"testing"

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
	for _, bad := range []string{"80", "x:80", "0:80", "1:2:3:4", "70000:80"} {
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
