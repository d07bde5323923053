package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"google.golang.org/grpc/codes"

	"github.com/berth-runtime/berth/internal/berthinfo"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ownPID gives the container a PID namespace of its own, as docker run does
// (the CRI's zero value would share one pod-wide namespace).
var ownPID = &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}

type runOptions struct {
	remove, detach         bool
	interactive, tty       bool
	publishAll             bool
	name, hostname         string
	workdir, user          string
	entrypoint             string
	memory, cpus           string
	env, envFiles, volumes []string
	publish                []string
	handler, logDir        string
	restart                string
	entrypointSet          bool
	// logsSince, if set, is where runUntilExit starts showing the log
	// (a restarted container's log holds its earlier runs too).
	logsSince string
}

func newRunCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Pull if needed, then run IMAGE in a new pod; exit with its exit code",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.entrypointSet = cmd.Flags().Changed("entrypoint")
			return runRun(g, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.BoolVarP(&o.detach, "detach", "d", false, "print the container ID and return")
	addRunFlags(f, o)
	return cmd
}

// addRunFlags adds the flags run and docker's form of create share.
func addRunFlags(f *pflag.FlagSet, o *runOptions) {
	f.SetInterspersed(false)
	f.BoolVar(&o.remove, "rm", false, "remove the pod and container when it exits (with -d too)")
	f.BoolVarP(&o.interactive, "interactive", "i", false, "keep stdin open and pass it to the container")
	f.BoolVarP(&o.tty, "tty", "t", false, "give the container a terminal")
	f.StringVar(&o.name, "name", "", "pod and container name, unique (default: random)")
	f.StringVar(&o.hostname, "hostname", "", "the container's hostname (default: its name)")
	f.StringVarP(&o.workdir, "workdir", "w", "", "working directory inside the container")
	f.StringVarP(&o.user, "user", "u", "", "user as UID[:GID] or NAME")
	f.StringVar(&o.entrypoint, "entrypoint", "", "replace the image's entrypoint")
	f.StringVarP(&o.memory, "memory", "m", "", "memory limit, such as 64m or 1g")
	f.StringVar(&o.cpus, "cpus", "", "CPU limit in CPUs, such as 1.5")
	f.StringArrayVarP(&o.env, "env", "e", nil, "environment variable KEY=VALUE (KEY alone: this shell's value)")
	f.StringArrayVar(&o.envFiles, "env-file", nil, "read environment variables from a file, one KEY=VALUE a line")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount SRC:DST[:ro]")
	f.StringVar(&o.handler, "runtime", "", "runtime handler (runc, crun)")
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "publish a port: [[HOST-IP:][HOST-PORT]:]CONTAINER-PORT[/udp] (no host port: a free one)")
	f.BoolVarP(&o.publishAll, "publish-all", "P", false, "publish every port the image exposes on a free host port")
	f.StringVar(&o.restart, "restart", "no", "start it again when it exits: no, always, unless-stopped, on-failure[:N] (berthd does, with docker's backoff)")
	f.StringVar(&o.logDir, "log-dir", "/var/log/berth", "where the pod's log directory is made (removed with the pod)")
}

func runRun(g *globalOptions, o *runOptions, image string, command []string) error {
	c, err := g.connect()
	if err != nil {
		return runtimeFailure(err)
	}
	defer c.Close()
	id, podID, err := c.createRun(o, image, command, true)
	if err != nil {
		return err
	}
	if o.detach {
		fmt.Println(id)
		return nil
	}
	return c.runUntilExit(id, podID, o)
}

// createRun makes a `berth run` pod and its container from the flags,
// pulling the image if needed, and starts it if start is set. Whatever
// fails leaves nothing behind. Errors carry docker's exit codes.
func (c *client) createRun(o *runOptions, image string, command []string, start bool) (id, podID string, err error) {
	// Everything the flags say is checked before anything is made.
	ctrTemplate, err := o.containerConfig("", "", image, command)
	if err != nil {
		return "", "", usage(err)
	}
	published, err := parsePublish(o.publish)
	if err != nil {
		return "", "", usage(err)
	}
	restart, err := berthinfo.ParseRestartPolicy(o.restart)
	if err != nil {
		return "", "", usage(fmt.Errorf("--restart: %w", err))
	}
	if o.remove && restart.Mode != "no" {
		return "", "", usage(fmt.Errorf("--rm and --restart %s conflict: a container cannot be removed and restarted when it exits", o.restart))
	}
	name := o.name
	if name == "" {
		name = "berth-" + randomHex(4)
	} else if err := c.nameFree(name); err != nil {
		return "", "", runtimeFailure(err)
	}
	imageID, err := c.ensureImage(image)
	if err != nil {
		return "", "", runtimeFailure(err)
	}
	if o.publishAll {
		exposed, err := c.exposedPorts(imageID)
		if err != nil {
			return "", "", runtimeFailure(err)
		}
		published = append(published, exposed...)
	}
	if err := c.claimHostPorts(published); err != nil {
		return "", "", runtimeFailure(err)
	}
	hostname := o.hostname
	if hostname == "" {
		hostname = name
	}
	logDir := filepath.Join(o.logDir, name+"_"+randomHex(4))
	podCfg := &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "berth", Uid: randomHex(16)},
		Hostname:     hostname,
		LogDirectory: logDir,
		PortMappings: published,
		Labels:       map[string]string{runPodLabel: "true"},
		Annotations:  map[string]string{runLogDirAnnotation: logDir},
		Linux:        &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{NamespaceOptions: ownPID}},
	}
	if o.remove && o.detach {
		podCfg.Annotations[berthinfo.RemoveOnExitAnnotation] = "true"
	}
	if restart.Mode != "no" {
		podCfg.Annotations[berthinfo.RestartPolicyAnnotation] = o.restart
	}
	ctrCfg := ctrTemplate
	ctrCfg.Metadata = &runtime.ContainerMetadata{Name: name}
	ctrCfg.Image = &runtime.ImageSpec{Image: imageID, UserSpecifiedImage: image}
	ctrCfg.LogPath = name + ".log"
	ctx, cancel := c.ctx()
	resp, err := c.Runtime.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: podCfg, RuntimeHandler: o.handler})
	cancel()
	if err != nil {
		os.RemoveAll(logDir)
		return "", "", runtimeFailure(c.explain(err))
	}
	podID = resp.PodSandboxId
	id, err = c.createContainer(podID, ctrCfg, podCfg)
	if err == nil && start {
		ctx, cancel = c.ctx()
		_, err = c.Runtime.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: id})
		cancel()
		err = c.explain(err)
	}
	if err != nil {
		c.removeRunPod(podID)
		return "", "", containerFailure(err)
	}
	return id, podID, nil
}

// runUntilExit stays with the container until it exits: attached to its
// stdio with -i or -t, else following its log. The first Ctrl-C stops it
// (SIGTERM, SIGKILL after 10 s), a second kills it at once. Then its pod
// is stopped (its IP and host ports freed), or removed with --rm, if it
// is a `berth run` pod (podID), and the container's exit code is returned
// (as an exitError).
func (c *client) runUntilExit(id, podID string, o *runOptions) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		timeout := int64(10)
		for range sigs {
			if timeout > 0 {
				fmt.Fprintf(os.Stderr, "berth: stopping %s (Ctrl-C again to kill it)\n", shortID(id, false))
			}
			go func(timeout int64) {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(timeout+30)*time.Second)
				defer cancel()
				c.Runtime.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: timeout})
			}(timeout)
			timeout = 0
		}
	}()
	var err error
	if o.interactive || o.tty {
		err = c.attachSession(id, streamOptions{stdin: o.interactive, tty: o.tty})
		var ce *callError
		if errors.As(err, &ce) && ce.code == codes.FailedPrecondition { // it is done already: show what it wrote
			err = c.printLogs(id, &logsOptions{tail: -1, since: o.logsSince}, os.Stdout, os.Stderr)
		}
	} else {
		err = c.printLogs(id, &logsOptions{follow: true, tail: -1, since: o.logsSince}, os.Stdout, os.Stderr)
	}
	st, serr := c.waitExited(id, 10*time.Second)
	switch {
	case podID == "": // not a `berth run` container: its pod is not its own
	case o.restart != "" && o.restart != "no": // berthd starts it again: the pod stays up
	case o.remove:
		c.removeRunPod(podID)
	default:
		c.stopPod(podID)
	}
	if serr != nil {
		return serr
	}
	if st.State == runtime.ContainerState_CONTAINER_EXITED && st.ExitCode != 0 {
		return exitError(st.ExitCode)
	}
	if err != nil {
		return err
	}
	return nil
}

// attachSession attaches the terminal to a running container.
func (c *client) attachSession(id string, o streamOptions) error {
	var resp *runtime.AttachResponse
	err := c.call(func(ctx context.Context) (err error) {
		resp, err = c.Runtime.Attach(ctx, &runtime.AttachRequest{ContainerId: id, Stdin: o.stdin, Tty: o.tty, Stdout: true, Stderr: !o.tty})
		return err
	})
	if err != nil {
		return err
	}
	return runSession(resp.Url, o)
}

// waitExited waits up to timeout for the container to have exited (an
// attach session can end a moment before the runtime records the exit).
func (c *client) waitExited(id string, timeout time.Duration) (*runtime.ContainerStatus, error) {
	deadline := time.Now().Add(timeout)
	for {
		st, err := c.containerStatus(id)
		if err != nil || st.State == runtime.ContainerState_CONTAINER_EXITED || time.Now().After(deadline) {
			return st, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// ensureImage returns the image's ID, pulling it first if it is missing,
// with progress on stderr (stdout is the container's).
func (c *client) ensureImage(image string) (string, error) {
	ctx, cancel := c.ctx()
	st, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: image}})
	cancel()
	if err == nil && st.Image != nil {
		return st.Image.Id, nil
	}
	fmt.Fprintf(os.Stderr, "Unable to find image %s locally; pulling it\n", image)
	resp, err := c.pullWithProgress(image, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: image}}, os.Stderr, false)
	if err != nil {
		return "", err
	}
	return resp.ImageRef, nil
}

func (c *client) stopPod(podID string) {
	ctx, cancel := c.ctx()
	defer cancel()
	if _, err := c.Runtime.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		fmt.Fprintf(os.Stderr, "berth: stop pod %s: %v\n", podID, c.explain(err))
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
