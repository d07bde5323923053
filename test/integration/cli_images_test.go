package integration

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// berthCLI runs the berth CLI against b and returns its stdout.
func berthCLI(t *testing.T, b *berthd, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(berthBin, append([]string{"--endpoint", b.Socket}, args...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return string(out) + stderr.String(), err
	}
	return string(out), nil
}

func mustCLI(t *testing.T, b *berthd, args ...string) string {
	t.Helper()
	out, err := berthCLI(t, b, args...)
	if err != nil {
		t.Fatalf("berth %v: %v\n%s", args, err, out)
	}
	return out
}

func TestCLIImageVerbs(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	ref := ti.Ref("multilayer:latest")
	out := mustCLI(t, b, "pull", ref)
	// Not a terminal: one line as each layer starts and ends.
	if !strings.Contains(out, "downloading") || strings.Count(out, ": pulled") != 3 || !strings.Contains(out, ti.MultiLayerID) {
		t.Fatalf("pull output:\n%s", out)
	}
	// A second pull finds every layer present.
	if out := mustCLI(t, b, "pull", ref); strings.Count(out, "already present") != 3 {
		t.Fatalf("second pull output:\n%s", out)
	}
	out = mustCLI(t, b, "images")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	shortID := strings.TrimPrefix(ti.MultiLayerID, "sha256:")[:13]
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "IMAGE") ||
		!strings.Contains(lines[1], ti.Addr()+"/multilayer") || !strings.Contains(lines[1], "latest") || !strings.Contains(lines[1], shortID) {
		t.Fatalf("images table:\n%s", out)
	}
	if out := mustCLI(t, b, "images", "-q"); strings.TrimSpace(out) != ti.MultiLayerID {
		t.Fatalf("images -q: %q", out)
	}
	var list struct {
		Images []struct {
			ID string `json:"id"`
		} `json:"images"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, b, "images", "-o", "json")), &list); err != nil || len(list.Images) != 1 || list.Images[0].ID != ti.MultiLayerID {
		t.Fatalf("images -o json: %+v %v", list, err)
	}
	if out := mustCLI(t, b, "images", "-o", "yaml"); !strings.Contains(out, "repoTags:") {
		t.Fatalf("images -o yaml:\n%s", out)
	}
	var inspect struct {
		Status struct {
			ID string `json:"id"`
		} `json:"status"`
		Info struct {
			ImageSpec struct{ Architecture string } `json:"imageSpec"`
		} `json:"info"`
	}
	if err := json.Unmarshal([]byte(mustCLI(t, b, "inspecti", shortID)), &inspect); err != nil ||
		inspect.Status.ID != ti.MultiLayerID || inspect.Info.ImageSpec.Architecture != "amd64" {
		t.Fatalf("inspecti: %+v %v", inspect, err)
	}
	if out := mustCLI(t, b, "rmi", shortID); !strings.Contains(out, "Deleted: "+ti.MultiLayerID) {
		t.Fatalf("rmi: %q", out)
	}
	if out := mustCLI(t, b, "images", "-q"); strings.TrimSpace(out) != "" {
		t.Fatalf("image left after rmi: %q", out)
	}
	if out, err := berthCLI(t, b, "rmi", "nosuchimage"); err == nil || !strings.Contains(out, "nosuchimage") {
		t.Fatalf("rmi of unknown image: %v %q", err, out)
	}
}

func TestCLIVersionInfoAndNoDaemon(t *testing.T) {
	b := startBerthd(t, "")
	if out := mustCLI(t, b, "version"); !strings.Contains(out, "Name:        berth") || !strings.Contains(out, "API version: v1") {
		t.Fatalf("version:\n%s", out)
	}
	var info struct {
		Status struct {
			Conditions []struct{ Type string } `json:"conditions"`
		} `json:"status"`
	}
	// RuntimeReady and NetworkReady, and one condition per handler that
	// cannot run here (crun on a hybrid host without a v1 hugetlb hierarchy).
	if err := json.Unmarshal([]byte(mustCLI(t, b, "info")), &info); err != nil || len(info.Status.Conditions) < 2 ||
		info.Status.Conditions[0].Type != "RuntimeReady" || info.Status.Conditions[1].Type != "NetworkReady" {
		t.Fatalf("info: %+v %v", info, err)
	}
	for _, c := range info.Status.Conditions[2:] {
		if !strings.HasPrefix(c.Type, "berth.io/handler-") {
			t.Fatalf("info: unexpected condition %q", c.Type)
		}
	}
	out, err := exec.Command(berthBin, "--endpoint", "/nonexistent/berth.sock", "images").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is berthd running") {
		t.Fatalf("no daemon: %v %q", err, out)
	}
	cmd := exec.Command(berthBin, "images")
	cmd.Env = append(cmd.Environ(), "BERTH_ENDPOINT=unix://"+b.Socket)
	if out, err := cmd.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "IMAGE") {
		t.Fatalf("BERTH_ENDPOINT: %v %q", err, out)
	}
}
