package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Marks on the pods `berth run` makes.
const (
	// runLogDirAnnotation names the log directory `berth run` made for
	// the pod; it goes with the pod.
	runLogDirAnnotation = "berth.run/log-dir"
)

// removeRunPod removes a `berth run` pod with its container and the log
// directory run made for it.
func (c *client) removeRunPod(podID string) {
	ctx, cancel := c.ctx()
	defer cancel()
	if err := c.removeRunPodCtx(ctx, podID); err != nil {
		fmt.Fprintf(os.Stderr, "berth: remove pod %s: %v\n", podID, c.explain(err))
	}
}

func (c *client) removeRunPodCtx(ctx context.Context, podID string) error {
	logDir := c.runLogDir(ctx, podID)
	if _, err := c.Runtime.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		return err
	}
	if logDir != "" {
		return os.RemoveAll(logDir)
	}
	return nil
}

// runLogDir is the log directory `berth run` made for the pod: the pod's
// own log directory, when the pod carries run's label and annotation naming
// it and its name is the pod's (never a directory some other pod names).
func (c *client) runLogDir(ctx context.Context, podID string) string {
	st, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: podID, Verbose: true})
	if err != nil || st.GetStatus().GetLabels()[runPodLabel] != "true" {
		return ""
	}
	var info struct {
		Config struct {
			LogDirectory string `json:"log_directory"`
		} `json:"config"`
	}
	json.Unmarshal([]byte(st.GetInfo()["info"]), &info)
	dir := st.GetStatus().GetAnnotations()[runLogDirAnnotation]
	name := st.GetStatus().GetMetadata().GetName()
	if dir == "" || dir != info.Config.LogDirectory || !filepath.IsAbs(dir) ||
		!strings.HasPrefix(filepath.Base(dir), name+"_") {
		return ""
	}
	return dir
}

// nameFree fails when a container or a pod of `berth run` already has the
// name: names are how users address them.
func (c *client) nameFree(name string) error {
	ctx, cancel := c.ctx()
	defer cancel()
	ctrs, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{})
	if err != nil {
		return c.explain(err)
	}
	for _, ctr := range ctrs.Containers {
		if ctr.GetMetadata().GetName() == name {
			return fmt.Errorf("the name %q is already in use by container %s: remove it or choose another name", name, shortID(ctr.Id, false))
		}
	}
	pods, err := c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{
		LabelSelector: map[string]string{runPodLabel: "true"}}})
	if err != nil {
		return c.explain(err)
	}
	for _, p := range pods.Items {
		if p.GetMetadata().GetName() == name {
			return fmt.Errorf("the name %q is already in use by pod %s: remove it or choose another name", name, shortID(p.Id, false))
		}
	}
	return nil
}
