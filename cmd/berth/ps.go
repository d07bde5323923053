package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// psRow is one container as `ps` shows it; --format templates see these
// fields.
type psRow struct {
	ID, Image, Command, CreatedAt, RunningFor, Status, State, Ports, Names, Pod string
	ExitCode                                                                    int32
	Labels                                                                      map[string]string
	created                                                                     int64
}

// psColumns are the table's columns: header and field.
var psColumns = []column{
	{"CONTAINER ID", "ID"}, {"IMAGE", "Image"}, {"COMMAND", "Command"}, {"CREATED", "RunningFor"},
	{"STATUS", "Status"}, {"PORTS", "Ports"}, {"NAMES", "Names"}, {"POD", "Pod"},
}

// parsePsFilters reads ps's -f flags.
func parsePsFilters(specs []string) ([]listFilter, error) {
	return parseFilters(specs, []string{"status", "name", "id", "label", "pod", "exited", "ancestor"}, func(k, v string) error {
		if k == "status" && v != "created" && v != "running" && v != "exited" {
			return fmt.Errorf("status is created, running or exited")
		}
		if _, err := strconv.Atoi(v); k == "exited" && err != nil {
			return fmt.Errorf("exited takes an exit code")
		}
		return nil
	})
}

// match reports whether r passes every filter.
func (r *psRow) match(filters []listFilter) bool {
	return matchFilters(filters, func(key, v string) bool {
		switch key {
		case "status":
			return r.State == v
		case "name":
			return strings.Contains(r.Names, v)
		case "id":
			return strings.HasPrefix(r.ID, v)
		case "pod":
			return strings.HasPrefix(r.Pod, v)
		case "exited":
			return r.State == "exited" && strconv.Itoa(int(r.ExitCode)) == v
		case "ancestor":
			return r.Image == v || strings.HasPrefix(r.Image, v+":")
		case "label":
			return labelMatches(r.Labels, v)
		}
		return false
	})
}

// psRows gathers what the table shows: each container's status, its
// pod's published ports and its image's name.
func (c *client) psRows(ctx context.Context, list []*runtime.Container, noTrunc bool) []*psRow {
	names := c.imageNames(ctx)
	ports := map[string]string{}
	var rows []*psRow
	for _, ctr := range list {
		r := &psRow{ID: shortID(ctr.Id, noTrunc), Names: ctr.GetMetadata().GetName(), Pod: shortID(ctr.PodSandboxId, noTrunc),
			Labels: ctr.Labels, CreatedAt: time.Unix(0, ctr.CreatedAt).Format("2006-01-02 15:04:05 -0700 MST"),
			RunningFor: humanDuration(time.Since(time.Unix(0, ctr.CreatedAt))) + " ago", created: ctr.CreatedAt}
		r.Image = imageName(ctr.GetImage().GetImage(), names, noTrunc)
		st, err := c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: ctr.Id, Verbose: true})
		if err == nil {
			s := st.Status
			if u := s.GetImage().GetUserSpecifiedImage(); u != "" {
				r.Image = shortImage(u)
			}
			r.State, r.Status, r.ExitCode = dockerStatus(s)
			r.Command = commandOf(st.Info["info"], noTrunc)
		}
		if _, ok := ports[ctr.PodSandboxId]; !ok {
			ports[ctr.PodSandboxId] = c.publishedOf(ctx, ctr.PodSandboxId)
		}
		r.Ports = ports[ctr.PodSandboxId]
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].created > rows[j].created })
	return rows
}

// imageNames maps image IDs to their first tag.
func (c *client) imageNames(ctx context.Context) map[string]string {
	out := map[string]string{}
	resp, err := c.Images.ListImages(ctx, &runtime.ListImagesRequest{})
	if err != nil {
		return out
	}
	for _, img := range resp.Images {
		if len(img.RepoTags) > 0 {
			out[img.Id] = shortImage(img.RepoTags[0])
		}
	}
	return out
}

func imageName(ref string, names map[string]string, noTrunc bool) string {
	if n, ok := names[ref]; ok {
		return n
	}
	if strings.HasPrefix(ref, "sha256:") {
		return shortID(strings.TrimPrefix(ref, "sha256:"), noTrunc)
	}
	return shortImage(ref)
}

// shortImage drops docker.io/library/ (and docker.io/), as docker shows names.
func shortImage(ref string) string {
	return strings.TrimPrefix(strings.TrimPrefix(ref, "docker.io/library/"), "docker.io/")
}

// dockerStatus is the state word and docker's STATUS text: "Up 3 minutes",
// "Exited (1) 2 seconds ago", "Created".
func dockerStatus(s *runtime.ContainerStatus) (state, status string, code int32) {
	switch s.State {
	case runtime.ContainerState_CONTAINER_RUNNING:
		return "running", "Up " + humanDuration(time.Since(time.Unix(0, s.StartedAt))), 0
	case runtime.ContainerState_CONTAINER_EXITED:
		return "exited", fmt.Sprintf("Exited (%d) %s ago", s.ExitCode, humanDuration(time.Since(time.Unix(0, s.FinishedAt)))), s.ExitCode
	case runtime.ContainerState_CONTAINER_CREATED:
		return "created", "Created", 0
	}
	return "unknown", "Unknown", 0
}

// commandOf is the container's command line from berthd's verbose status,
// quoted and cut at 20 characters as docker shows it.
func commandOf(info string, noTrunc bool) string {
	var v struct {
		Config struct {
			Command []string `json:"command"`
			Args    []string `json:"args"`
		} `json:"config"`
	}
	if json.Unmarshal([]byte(info), &v) != nil {
		return ""
	}
	cmd := strings.Join(append(v.Config.Command, v.Config.Args...), " ")
	if !noTrunc && len([]rune(cmd)) > 20 {
		cmd = string([]rune(cmd)[:19]) + "…"
	}
	return strconv.Quote(cmd)
}

// publishedOf is a pod's published ports: "127.0.0.1:8080->80/tcp, ...".
func (c *client) publishedOf(ctx context.Context, podID string) string {
	st, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if err != nil || st.GetStatus().GetState() != runtime.PodSandboxState_SANDBOX_READY {
		return ""
	}
	var info struct {
		Config struct {
			PortMappings []*runtime.PortMapping `json:"port_mappings"`
		} `json:"config"`
	}
	json.Unmarshal([]byte(st.Info["info"]), &info)
	var out []string
	for _, m := range info.Config.PortMappings {
		if m.HostPort == 0 {
			continue
		}
		ip := m.HostIp
		if ip == "" {
			ip = "0.0.0.0"
		}
		proto := strings.ToLower(m.Protocol.String())
		out = append(out, fmt.Sprintf("%s:%d->%d/%s", ip, m.HostPort, m.ContainerPort, proto))
	}
	return strings.Join(out, ", ")
}

// humanDuration is docker's: "Less than a second", "About a minute",
// "3 hours", "2 weeks".
func humanDuration(d time.Duration) string {
	s := int(d.Seconds())
	switch {
	case s < 1:
		return "Less than a second"
	case s == 1:
		return "1 second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	}
	m := int(d.Minutes())
	switch {
	case m == 1:
		return "About a minute"
	case m < 60:
		return fmt.Sprintf("%d minutes", m)
	}
	h := int(d.Round(time.Hour).Hours())
	switch {
	case h == 1:
		return "About an hour"
	case h < 48:
		return fmt.Sprintf("%d hours", h)
	case h < 24*7*2:
		return fmt.Sprintf("%d days", h/24)
	case h < 24*30*2:
		return fmt.Sprintf("%d weeks", h/24/7)
	case h < 24*365*2:
		return fmt.Sprintf("%d months", h/24/30)
	}
	return fmt.Sprintf("%d years", h/24/365)
}
