package main

import (
	"bufio"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// containerConfig is the container `run` asks for, from its flags. Name
// and image are filled in by the caller.
func (o *runOptions) containerConfig(name, imageID, image string, command []string) (*runtime.ContainerConfig, error) {
	cfg := &runtime.ContainerConfig{
		Metadata:   &runtime.ContainerMetadata{Name: name},
		Image:      &runtime.ImageSpec{Image: imageID, UserSpecifiedImage: image},
		Args:       command, // like docker: COMMAND replaces the image's cmd, not its entrypoint
		LogPath:    name + ".log",
		WorkingDir: o.workdir,
		Stdin:      o.interactive,
		StdinOnce:  o.interactive,
		Tty:        o.tty,
		Linux: &runtime.LinuxContainerConfig{
			SecurityContext: &runtime.LinuxContainerSecurityContext{NamespaceOptions: ownPID},
			Resources:       &runtime.LinuxContainerResources{},
		},
	}
	if o.entrypointSet {
		// --entrypoint "" clears the image's entrypoint, as in docker.
		if o.entrypoint != "" {
			cfg.Command = []string{o.entrypoint}
		} else if len(command) == 0 {
			return nil, fmt.Errorf("--entrypoint \"\" needs a COMMAND")
		} else {
			cfg.Command, cfg.Args = command[:1], command[1:]
		}
	}
	if o.workdir != "" && !filepath.IsAbs(o.workdir) {
		return nil, fmt.Errorf("-w %q: the working directory must be an absolute path", o.workdir)
	}
	if err := o.applyUser(cfg.Linux.SecurityContext); err != nil {
		return nil, err
	}
	if err := o.applyResources(cfg.Linux.Resources); err != nil {
		return nil, err
	}
	for _, file := range o.envFiles {
		kvs, err := readEnvFile(file)
		if err != nil {
			return nil, err
		}
		cfg.Envs = append(cfg.Envs, kvs...)
	}
	for _, kv := range o.env {
		if e, ok := envEntry(kv); ok {
			cfg.Envs = append(cfg.Envs, e)
		}
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

// envEntry reads KEY=VALUE; KEY alone passes this shell's value of KEY, as
// docker does, and nothing when it is unset.
func envEntry(kv string) (*runtime.KeyValue, bool) {
	k, v, ok := strings.Cut(kv, "=")
	if !ok {
		if v, ok = os.LookupEnv(k); !ok {
			return nil, false
		}
	}
	return &runtime.KeyValue{Key: k, Value: []byte(v)}, true
}

// readEnvFile reads docker's env file: KEY=VALUE or KEY a line, blank
// lines and lines starting with # skipped, values taken as written.
func readEnvFile(path string) ([]*runtime.KeyValue, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--env-file: %w", err)
	}
	defer f.Close()
	var out []*runtime.KeyValue
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimLeft(sc.Text(), " \t")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, _, _ := strings.Cut(line, "="); strings.ContainsAny(k, " \t") || k == "" {
			return nil, fmt.Errorf("--env-file %s line %d: %q is not KEY=VALUE", path, n, line)
		}
		if e, ok := envEntry(line); ok {
			out = append(out, e)
		}
	}
	return out, sc.Err()
}

// applyUser reads -u: UID[:GID] or NAME[:GID] (the CRI takes groups by
// number only).
func (o *runOptions) applyUser(sc *runtime.LinuxContainerSecurityContext) error {
	if o.user == "" {
		return nil
	}
	user, group, hasGroup := strings.Cut(o.user, ":")
	if user == "" {
		return fmt.Errorf("-u %q: want UID[:GID] or NAME[:GID]", o.user)
	}
	if uid, err := strconv.ParseInt(user, 10, 64); err == nil {
		sc.RunAsUser = &runtime.Int64Value{Value: uid}
	} else {
		sc.RunAsUsername = user
	}
	if hasGroup {
		gid, err := strconv.ParseInt(group, 10, 64)
		if err != nil {
			return fmt.Errorf("-u %q: the group must be a number (GID)", o.user)
		}
		sc.RunAsGroup = &runtime.Int64Value{Value: gid}
	}
	return nil
}

// applyResources reads --memory and --cpus.
func (o *runOptions) applyResources(r *runtime.LinuxContainerResources) error {
	if o.memory != "" {
		n, err := parseBytes(o.memory)
		if err != nil {
			return fmt.Errorf("--memory %q: %v", o.memory, err)
		}
		r.MemoryLimitInBytes = n
	}
	if o.cpus != "" {
		cpus, err := strconv.ParseFloat(o.cpus, 64)
		if err != nil || cpus <= 0 || cpus > 1024 || math.IsNaN(cpus) {
			return fmt.Errorf("--cpus %q: want a number of CPUs above 0, such as 0.5", o.cpus)
		}
		r.CpuPeriod = 100000
		r.CpuQuota = int64(math.Round(cpus * 100000))
	}
	return nil
}

// parseBytes reads docker's sizes: a number with an optional unit b, k, m
// or g (powers of 1024, either case).
func parseBytes(s string) (int64, error) {
	num, mult := strings.ToLower(s), int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if strings.HasSuffix(num, u.suffix) {
			num, mult = strings.TrimSuffix(num, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("want a size such as 512m or 1g")
	}
	return n * mult, nil
}
