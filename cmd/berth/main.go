// Command berth is the node operator's CLI: one tool for what docker, ctr
// and crictl each do, over the CRI socket of berthd (or any CRI runtime).
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	root := newRootCommand()
	if err := root.Execute(); err != nil {
		var code exitError
		if errors.As(err, &code) {
			os.Exit(int(code))
		}
		fmt.Fprintln(os.Stderr, "berth:", err)
		os.Exit(exitCode(err))
	}
}

// globalOptions are the flags every verb shares.
type globalOptions struct {
	endpoint string
	timeout  string
}

func newRootCommand() *cobra.Command {
	g := &globalOptions{}
	root := &cobra.Command{
		Use:           "berth",
		Short:         "Manage images, pods and containers of a CRI runtime (berthd by default)",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	// A bad flag exits 125, as docker's do.
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usage(err) })
	root.PersistentFlags().StringVar(&g.endpoint, "endpoint", defaultEndpoint(),
		"CRI endpoint (unix socket path or unix:// URL); env BERTH_ENDPOINT")
	root.PersistentFlags().StringVar(&g.timeout, "timeout", "2m", "timeout of each call")
	root.AddCommand(
		newPullCommand(g), newImagesCommand(g), newRmiCommand(g), newInspectImageCommand(g),
		newVersionCommand(g), newInfoCommand(g),
		newRunPodCommand(g), newStopPodCommand(g), newRemovePodCommand(g), newPodsCommand(g), newInspectPodCommand(g),
		newCreateCommand(g), newStartCommand(g), newRestartCommand(g), newStopCommand(g), newRemoveCommand(g), newPsCommand(g),
		newInspectCommand(g), newExecCommand(g), newLogsCommand(g), newRunCommand(g), newBenchCommand(g),
		newAttachCommand(g), newPortForwardCommand(g), newStatsCommand(g), newEventsCommand(g),
		newTagCommand(g), newPushCommand(g), newKillCommand(g), newTopCommand(g), newCpCommand(g),
		newImageCommand(g), newContainerCommand(g), newSystemCommand(g),
		newSaveCommand(g, "save", "Write images to a tar archive (docker's format by default)", "docker"),
		newSaveCommand(g, "export", "Write images to a tar archive (an OCI image layout by default, as ctr image export)", "oci"),
		newLoadCommand(g, "load", "Load images from a tar archive (docker's or an OCI image layout)"),
		newLoadCommand(g, "import", "Load images from a tar archive (as ctr image import; same as load)"),
	)
	withCompletion(root, g)
	return root
}

func defaultEndpoint() string {
	if e := os.Getenv("BERTH_ENDPOINT"); e != "" {
		return e
	}
	return "unix:///run/berth/berth.sock"
}
