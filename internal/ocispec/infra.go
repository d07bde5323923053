package ocispec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// infraPath is where the pause binary appears in the infra container.
const infraPath = "/pause"

// InfraSpec is the spec of a pod's infra process: berth-pause, bind
// mounted read-only into an empty root, as PID 1 of a new PID namespace
// inside the pod's other namespaces, with no capabilities.
func InfraSpec(rootfs, pauseBinary, cgroupsPath string, pod Pod, minOOMScoreAdj int) *specs.Spec {
	s := defaultSpec()
	s.Root = &specs.Root{Path: rootfs, Readonly: true}
	s.Process = &specs.Process{
		Args: []string{infraPath}, Cwd: "/", NoNewPrivileges: true,
		Env:          []string{"PATH=/"},
		Capabilities: &specs.LinuxCapabilities{},
	}
	s.Mounts = append(s.Mounts, specs.Mount{Destination: infraPath, Type: "bind", Source: pauseBinary, Options: []string{"rbind", "ro"}})
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}, {Type: specs.PIDNamespace}}
	for _, p := range []struct {
		t    specs.LinuxNamespaceType
		path string
	}{{specs.NetworkNamespace, pod.NetNS}, {specs.IPCNamespace, pod.IPCNS}, {specs.UTSNamespace, pod.UTSNS}} {
		if p.path != "" {
			ns = append(ns, specs.LinuxNamespace{Type: p.t, Path: p.path})
		}
	}
	s.Linux.Namespaces = ns
	setUserNamespace(s, pod)
	s.Linux.CgroupsPath = cgroupsPath
	adj := ClampOOMScoreAdj(-998, minOOMScoreAdj)
	s.Process.OOMScoreAdj = &adj
	return s
}
