package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// ownPID gives the container a PID namespace of its own, as docker run does
// (the CRI's zero value would share one pod-wide namespace).
var ownPID = &runtime.NamespaceOption{Pid: runtime.NamespaceMode_CONTAINER}

type runOptions struct {
	remove  bool
	detach  bool
	name    string
	env     []string
	volumes []string
	handler string
	logDir  string
	publish []string
}

func newRunCommand(g *globalOptions) *cobra.Command {
	o := &runOptions{}
	cmd := &cobra.Command{
		Use:   "run [flags] IMAGE [COMMAND [ARG...]]",
		Short: "Pull if needed, then run IMAGE in a new pod; exit with its exit code",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			return runRun(g, o, args[0], args[1:])
		},
	}
	f := cmd.Flags()
	f.SetInterspersed(false)
	f.BoolVar(&o.remove, "rm", false, "remove the pod and container when it exits")
	f.BoolVarP(&o.detach, "detach", "d", false, "print the container ID and return")
	f.StringVar(&o.name, "name", "", "pod and container name (default: random)")
	f.StringArrayVarP(&o.env, "env", "e", nil, "environment variable KEY=VALUE")
	f.StringArrayVarP(&o.volumes, "volume", "v", nil, "bind mount SRC:DST[:ro]")
	f.StringVar(&o.handler, "runtime", "", "runtime handler (runc, crun)")
	f.StringArrayVarP(&o.publish, "publish", "p", nil, "publish a port: [HOST-IP:]HOST-PORT:CONTAINER-PORT[/udp]")
	f.StringVar(&o.logDir, "log-dir", "/var/log/berth", "where the pod's log directory is made")
	return cmd
}

func runRun(g *globalOptions, o *runOptions, image string, command []string) error {
	c, err := g.connect()
	if err != nil {
		return err
	}
	defer c.Close()
	imageID, err := c.ensureImage(image)
	if err != nil {
		return err
	}
	name := o.name
	if name == "" {
		name = "berth-" + randomHex(4)
	}
	podCfg := &runtime.PodSandboxConfig{
		Metadata:     &runtime.PodSandboxMetadata{Name: name, Namespace: "berth", Uid: randomHex(16)},
		Hostname:     name,
		LogDirectory: filepath.Join(o.logDir, name+"_"+randomHex(4)),
		Labels:       map[string]string{runPodLabel: "true"},
		Linux:        &runtime.LinuxPodSandboxConfig{SecurityContext: &runtime.LinuxSandboxSecurityContext{NamespaceOptions: ownPID}},
	}
	ctrCfg, err := o.containerConfig(name, imageID, image, command)
	if err != nil {
		return err
	}
	if podCfg.PortMappings, err = parsePublish(o.publish); err != nil {
		return err
	}
	ctx, cancel := c.ctx()
	resp, err := c.Runtime.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: podCfg, RuntimeHandler: o.handler})
	cancel()
	if err != nil {
		return c.explain(err)
	}
	podID := resp.PodSandboxId
	id, err := c.createContainer(podID, ctrCfg, podCfg)
	if err == nil {
		ctx, cancel = c.ctx()
		_, err = c.Runtime.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: id})
		cancel()
		err = c.explain(err)
	}
	if err != nil {
		c.removePod(podID)
		return err
	}
	if o.detach {
		fmt.Println(id)
		return nil
	}
	return c.attachUntilExit(id, podID, o.remove)
}

func (o *runOptions) containerConfig(name, imageID, image string, command []string) (*runtime.ContainerConfig, error) {
	cfg := &runtime.ContainerConfig{
		Metadata: &runtime.ContainerMetadata{Name: name},
		Image:    &runtime.ImageSpec{Image: imageID, UserSpecifiedImage: image},
		Args:     command, // like docker: COMMAND replaces the image's cmd, not its entrypoint
		LogPath:  name + ".log",
		Linux:    &runtime.LinuxContainerConfig{SecurityContext: &runtime.LinuxContainerSecurityContext{NamespaceOptions: ownPID}},
	}
	for _, kv := range o.env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok { // -e NAME passes the CLI's own value, as docker does; unset: nothing
			if v, ok = os.LookupEnv(k); !ok {
				continue
			}
		}
		cfg.Envs = append(cfg.Envs, &runtime.KeyValue{Key: k, Value: []byte(v)})
	}
	for _, vol := range o.volumes {
		parts := strings.Split(vol, ":")
		if len(parts) < 2 || len(parts) > 3 || (len(parts) == 3 && parts[2] != "ro" && parts[2] != "rw") {
			return nil, fmt.Errorf("-v %q: want SRC:DST[:ro]", vol)
		}
		src, err := filepath.Abs(parts[0])
		if err != nil {
			return nil, err
		}
		cfg.Mounts = append(cfg.Mounts, &runtime.Mount{HostPath: src, ContainerPath: parts[1], Readonly: len(parts) == 3 && parts[2] == "ro"})
	}
	return cfg, nil
}

// ensureImage returns the image's ID, pulling it first if it is missing.
func (c *client) ensureImage(image string) (string, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	st, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: image}})
	if err == nil && st.Image != nil {
		return st.Image.Id, nil
	}
	resp, err := c.Images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: image}})
	if err != nil {
		return "", c.explain(err)
	}
	return resp.ImageRef, nil
}

// attachUntilExit streams the container's output until it exits, then
// returns its exit code (as an exitError). Ctrl-C stops the container.
func (c *client) attachUntilExit(id, podID string, remove bool) error {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		if _, ok := <-sigs; ok {
			ctx, cancel := c.ctx()
			defer cancel()
			c.Runtime.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: id, Timeout: 10})
		}
	}()
	err := c.printLogs(id, &logsOptions{follow: true, tail: -1}, os.Stdout, os.Stderr)
	st, serr := c.containerStatus(id)
	if remove {
		c.removePod(podID)
	}
	if err != nil {
		return err
	}
	if serr != nil {
		return serr
	}
	if st.ExitCode != 0 {
		return exitError(st.ExitCode)
	}
	return nil
}

func (c *client) removePod(podID string) {
	ctx, cancel := c.ctx()
	defer cancel()
	if _, err := c.Runtime.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		fmt.Fprintf(os.Stderr, "berth: remove pod %s: %v\n", podID, c.explain(err))
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// parsePublish reads docker-style -p values.
func parsePublish(specs []string) ([]*runtime.PortMapping, error) {
	var out []*runtime.PortMapping
	for _, spec := range specs {
		proto := runtime.Protocol_TCP
		rest := spec
		if p, ok := strings.CutSuffix(rest, "/udp"); ok {
			rest, proto = p, runtime.Protocol_UDP
		} else {
			rest = strings.TrimSuffix(rest, "/tcp")
		}
		parts := strings.Split(rest, ":")
		var hostIP string
		if len(parts) == 3 {
			hostIP, parts = parts[0], parts[1:]
		}
		if len(parts) != 2 {
			return nil, fmt.Errorf("-p %q: want [HOST-IP:]HOST-PORT:CONTAINER-PORT[/udp]", spec)
		}
		hostPort, err1 := strconv.ParseUint(parts[0], 10, 16)
		ctrPort, err2 := strconv.ParseUint(parts[1], 10, 16)
		if err1 != nil || err2 != nil || hostPort == 0 || ctrPort == 0 {
			return nil, fmt.Errorf("-p %q: ports must be 1-65535", spec)
		}
		out = append(out, &runtime.PortMapping{Protocol: proto, HostIp: hostIP, HostPort: int32(hostPort), ContainerPort: int32(ctrPort)})
	}
	return out, nil
}
