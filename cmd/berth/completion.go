package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Shell completion (`berth completion bash|zsh|fish`) of the names of
// containers, pods and images, asked of the runtime as the user types.

type completeKind int

const (
	completeContainers completeKind = iota
	completePods
	completeImages
)

// completer lists the runtime's names of kind that start with what was
// typed; a runtime that does not answer within 2 s completes nothing.
func completer(g *globalOptions, kind completeKind) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(_ *cobra.Command, _ []string, typed string) ([]string, cobra.ShellCompDirective) {
		c, err := g.connect()
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		var names []string
		switch kind {
		case completeContainers:
			if resp, err := c.Runtime.ListContainers(ctx, &runtime.ListContainersRequest{}); err == nil {
				for _, ctr := range resp.Containers {
					names = append(names, ctr.GetMetadata().GetName())
				}
			}
		case completePods:
			if resp, err := c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{}); err == nil {
				for _, p := range resp.Items {
					names = append(names, p.GetMetadata().GetName())
				}
			}
		case completeImages:
			if resp, err := c.Images.ListImages(ctx, &runtime.ListImagesRequest{}); err == nil {
				for _, img := range resp.Images {
					for _, t := range img.RepoTags {
						names = append(names, shortImage(t))
					}
				}
			}
		}
		var out []string
		for _, n := range names {
			if strings.HasPrefix(n, typed) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// withCompletion sets the completion of the verbs that take names.
func withCompletion(root *cobra.Command, g *globalOptions) {
	kinds := map[string]completeKind{
		"start": completeContainers, "stop": completeContainers, "rm": completeContainers, "inspect": completeContainers,
		"exec": completeContainers, "logs": completeContainers, "attach": completeContainers, "kill": completeContainers,
		"top": completeContainers, "stats": completeContainers,
		"stopp": completePods, "rmp": completePods, "inspectp": completePods, "port-forward": completePods,
		"rmi": completeImages, "inspecti": completeImages, "push": completeImages, "save": completeImages,
		"export": completeImages, "tag": completeImages, "run": completeImages,
	}
	for _, cmd := range root.Commands() {
		if kind, ok := kinds[cmd.Name()]; ok && cmd.ValidArgsFunction == nil {
			cmd.ValidArgsFunction = completer(g, kind)
		}
	}
}
