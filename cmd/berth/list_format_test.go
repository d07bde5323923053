package main

import (
	"io"
	"os"
	"strings"
	"testing"
)

func TestImageFilters(t *testing.T) {
	rows := []*imageRow{
		{Repository: "docker.io/library/busybox", Tag: "latest", fullID: "aa11"},
		{Repository: "127.0.0.1:5000/tools", Tag: "1.2", fullID: "bb22"},
		{Repository: "127.0.0.1:5000/tools", Tag: "<none>", fullID: "cc33"},
	}
	pick := func(specs ...string) string {
		return picked(t, rows, specs, parseImageFilters, func(r *imageRow) string { return r.fullID })
	}
	for specs, want := range map[string]string{
		"reference=busybox":                 "aa11",
		"reference=busybox:latest":          "aa11",
		"reference=*/tools:1.*":             "bb22",
		"reference=nothing":                 "",
		"dangling=true":                     "cc33",
		"dangling=false":                    "aa11,bb22",
		"id=sha256:bb":                      "bb22",
		"reference=busybox,reference=*/to*": "aa11,bb22,cc33",
	} {
		if got := pick(strings.Split(specs, ",")...); got != want {
			t.Errorf("%s: %q, want %q", specs, got, want)
		}
	}
	for _, bad := range []string{"dangling=maybe", "reference=[", "size=1", "reference"} {
		if _, err := parseImageFilters([]string{bad}); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestPodFilters(t *testing.T) {
	rows := []*podRow{
		{Name: "web-1", Namespace: "prod", State: "READY", fullID: "p1", Labels: map[string]string{"app": "web"}},
		{Name: "job", Namespace: "batch", State: "NOTREADY", fullID: "p2"},
	}
	pick := func(specs ...string) string {
		return picked(t, rows, specs, parsePodFilters, func(r *podRow) string { return r.fullID })
	}
	for specs, want := range map[string]string{
		"state=ready": "p1", "state=notready": "p2", "name=web": "p1", "namespace=batch": "p2",
		"label=app=web": "p1", "label=app": "p1", "id=p2": "p2", "state=ready,namespace=batch": "",
	} {
		if got := pick(strings.Split(specs, ",")...); got != want {
			t.Errorf("%s: %q, want %q", specs, got, want)
		}
	}
	if _, err := parsePodFilters([]string{"state=running"}); err == nil {
		t.Error("state=running accepted")
	}
}

func TestPrintRowsTemplates(t *testing.T) {
	rows := []*imageRow{{Repository: "busybox", Tag: "latest", ID: "aa11", Size: "1.2MB"}}
	capture := func(tmpl string) string {
		t.Helper()
		r, w, _ := os.Pipe()
		stdout := os.Stdout
		os.Stdout = w
		err := printRows(rows, imageColumns, tmpl)
		os.Stdout = stdout
		w.Close()
		out, _ := io.ReadAll(r)
		if err != nil {
			t.Fatalf("%q: %v", tmpl, err)
		}
		return string(out)
	}
	if got := capture("{{.Repository}}:{{.Tag}}"); got != "busybox:latest\n" {
		t.Errorf("plain template: %q", got)
	}
	if got := capture("table {{.ID}}\\t{{.Size}}"); !strings.HasPrefix(got, "IMAGE ID") || !strings.Contains(got, "aa11") {
		t.Errorf("table template: %q", got)
	}
	if got := capture(""); !strings.HasPrefix(got, "IMAGE") || !strings.Contains(got, "latest") {
		t.Errorf("default table: %q", got)
	}
	if err := printRows(rows, imageColumns, "{{.Nope}}"); err == nil {
		t.Error("a template naming an unknown field printed")
	}
}

// picked lists the IDs of the rows the filter flags let through.
func picked[R interface{ match([]listFilter) bool }](t *testing.T, rows []R, specs []string,
	parse func([]string) ([]listFilter, error), id func(R) string) string {
	t.Helper()
	f, err := parse(specs)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if r.match(f) {
			got = append(got, id(r))
		}
	}
	return strings.Join(got, ",")
}
