package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func newTopCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "top CONTAINER [ps OPTIONS]",
		Short: "Show a container's processes, as ps on this node sees them (ps -f by default)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return g.with(func(c *client) error {
				id, err := c.resolveContainer(args[0])
				if err != nil {
					return err
				}
				var st *runtime.ContainerStatusResponse
				err = c.call(func(ctx context.Context) (err error) {
					st, err = c.Runtime.ContainerStatus(ctx, &runtime.ContainerStatusRequest{ContainerId: id, Verbose: true})
					return err
				})
				if err != nil {
					return err
				}
				if st.Status.State != runtime.ContainerState_CONTAINER_RUNNING {
					return fmt.Errorf("container %s is not running", args[0])
				}
				var info struct {
					Pid    int    `json:"pid"`
					Cgroup string `json:"cgroup"`
				}
				json.Unmarshal([]byte(st.Info["info"]), &info)
				pids := cgroupPids(info.Cgroup)
				if len(pids) == 0 && info.Pid > 0 {
					pids = []int{info.Pid}
				}
				if len(pids) == 0 {
					return fmt.Errorf("the runtime does not tell the container's processes (berthd's verbose status does)")
				}
				return printProcesses(pids, args[1:])
			})
		},
	}
}

// cgroupPids lists the processes in a cgroup, from whichever hierarchy
// holds it (cgroup v2, or the v1 pids, memory or cpu controller).
func cgroupPids(cgroup string) []int {
	if cgroup == "" {
		return nil
	}
	for _, root := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/pids", "/sys/fs/cgroup/memory", "/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"} {
		data, err := os.ReadFile(filepath.Join(root, cgroup, "cgroup.procs"))
		if err != nil {
			continue
		}
		var pids []int
		for _, f := range strings.Fields(string(data)) {
			if n, err := strconv.Atoi(f); err == nil {
				pids = append(pids, n)
			}
		}
		if len(pids) > 0 {
			sort.Ints(pids)
			return pids
		}
	}
	return nil
}

// printProcesses runs ps for pids with the user's options (docker top's
// habit), or lists PID and command line from /proc when ps is missing.
func printProcesses(pids []int, psArgs []string) error {
	list := make([]string, len(pids))
	for i, p := range pids {
		list[i] = strconv.Itoa(p)
	}
	if ps, err := exec.LookPath("ps"); err == nil {
		if len(psArgs) == 0 {
			psArgs = []string{"-f"}
		}
		cmd := exec.Command(ps, append(psArgs, "-p", strings.Join(list, ","))...)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		return cmd.Run()
	}
	tw := newTable()
	fmt.Fprintln(tw, "PID\tCMD")
	for _, p := range list {
		cmdline, _ := os.ReadFile("/proc/" + p + "/cmdline")
		fmt.Fprintf(tw, "%s\t%s\n", p, strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
	}
	return tw.Flush()
}
