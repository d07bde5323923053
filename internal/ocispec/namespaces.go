package ocispec

import (
	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// setNamespaces joins the pod's pinned namespaces, or the host's where the
// pod asked for NODE, and gives the container its own mount namespace.
func setNamespaces(s *specs.Spec, in *Input) {
	opts := in.Config.GetLinux().GetSecurityContext().GetNamespaceOptions()
	ns := []specs.LinuxNamespace{{Type: specs.MountNamespace}}
	add := func(t specs.LinuxNamespaceType, path string) {
		ns = append(ns, specs.LinuxNamespace{Type: t, Path: path})
	}
	if opts.GetNetwork() != runtime.NamespaceMode_NODE && in.Pod.NetNS != "" {
		add(specs.NetworkNamespace, in.Pod.NetNS)
	}
	if opts.GetIpc() != runtime.NamespaceMode_NODE && in.Pod.IPCNS != "" {
		add(specs.IPCNamespace, in.Pod.IPCNS)
	}
	if in.Pod.UTSNS != "" {
		add(specs.UTSNamespace, in.Pod.UTSNS)
	}
	switch opts.GetPid() {
	case runtime.NamespaceMode_NODE:
	case runtime.NamespaceMode_POD:
		if in.Pod.PIDNS != "" {
			add(specs.PIDNamespace, in.Pod.PIDNS)
		} else {
			add(specs.PIDNamespace, "")
		}
	default:
		add(specs.PIDNamespace, "")
	}
	s.Linux.Namespaces = ns
	setUserNamespace(s, in.Pod)
}
