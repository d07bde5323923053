package main

import (
	"context"
	"fmt"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// resolveContainer turns an ID, a unique ID prefix or a unique name into
// a container ID.
func (c *client) resolveContainer(spec string) (string, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	list, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{})
	if err != nil {
		return "", c.explain(err)
	}
	var byID, byName []string
	for _, ctr := range list.Containers {
		if strings.HasPrefix(ctr.Id, spec) {
			byID = append(byID, ctr.Id)
		}
		if ctr.GetMetadata().GetName() == spec {
			byName = append(byName, ctr.Id)
		}
	}
	return pick("container", spec, byID, byName)
}

// resolvePod does the same for pods.
func (c *client) resolvePod(spec string) (string, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	list, err := c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		return "", c.explain(err)
	}
	var byID, byName []string
	for _, p := range list.Items {
		if strings.HasPrefix(p.Id, spec) {
			byID = append(byID, p.Id)
		}
		if p.GetMetadata().GetName() == spec {
			byName = append(byName, p.Id)
		}
	}
	return pick("pod", spec, byID, byName)
}

func pick(kind, spec string, byID, byName []string) (string, error) {
	switch {
	case len(byID) == 1:
		return byID[0], nil
	case len(byID) > 1:
		return "", fmt.Errorf("%s ID prefix %q is ambiguous (%d match)", kind, spec, len(byID))
	case len(byName) == 1:
		return byName[0], nil
	case len(byName) > 1:
		return "", fmt.Errorf("%s name %q is ambiguous (%d match); use an ID", kind, spec, len(byName))
	}
	return "", fmt.Errorf("no such %s: %s", kind, spec)
}

// forEach resolves and acts on each argument, reporting every failure.
func forEach(args []string, resolve func(string) (string, error), act func(id string) error) error {
	var failed []string
	for _, a := range args {
		id, err := resolve(a)
		if err == nil {
			err = act(id)
		}
		if err != nil {
			failed = append(failed, fmt.Sprintf("%s: %v", a, err))
			continue
		}
		fmt.Println(id)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%s", strings.Join(failed, "\n"))
	}
	return nil
}

// runPodLabel marks the pods `berth run` makes: each holds one container
// and lives and dies with it.
const runPodLabel = "berth.run"

// runPodOf returns the pod of container id when `berth run` made it, else "".
func (c *client) runPodOf(ctx context.Context, id string) (string, error) {
	list, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{Filter: &runtime.ContainerFilter{Id: id}})
	if err != nil || len(list.Containers) == 0 {
		return "", err
	}
	podID := list.Containers[0].PodSandboxId
	pods, err := c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{Id: podID}})
	if err != nil || len(pods.Items) == 0 {
		return "", err
	}
	if pods.Items[0].Labels[runPodLabel] != "true" {
		return "", nil
	}
	return podID, nil
}
