package cri

import (
	"context"
	"encoding/json"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/pod"
)

// PodSandboxStatus reports a pod; verbose adds berth's record as JSON.
func (s *Server) PodSandboxStatus(ctx context.Context, req *runtime.PodSandboxStatusRequest) (*runtime.PodSandboxStatusResponse, error) {
	sb, err := s.pods.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	resp := &runtime.PodSandboxStatusResponse{Status: sandboxStatus(sb)}
	if req.GetVerbose() {
		info, err := json.Marshal(map[string]any{
			"id": sb.ID, "state": sb.State, "runtimeHandler": sb.Handler, "hostname": sb.Hostname,
			"cgroup": sb.Cgroup, "netns": sb.NetNS, "ipcns": sb.IPCNS, "utsns": sb.UTSNS, "shm": sb.Shm, "infraPid": sb.InfraPid,
			"config": sb.Config(), "shimProtocol": s.pods.ShimProtocol(ctx, sb),
		})
		if err != nil {
			return nil, err
		}
		resp.Info = map[string]string{"info": string(info)}
	}
	return resp, nil
}

func sandboxState(sb *pod.Sandbox) runtime.PodSandboxState {
	if sb.State == pod.StateReady {
		return runtime.PodSandboxState_SANDBOX_READY
	}
	return runtime.PodSandboxState_SANDBOX_NOTREADY
}

func sandboxStatus(sb *pod.Sandbox) *runtime.PodSandboxStatus {
	cfg := sb.Config()
	return &runtime.PodSandboxStatus{
		Id: sb.ID, Metadata: cfg.GetMetadata(), State: sandboxState(sb), CreatedAt: sb.CreatedAt.UnixNano(),
		Network: networkStatus(sb),
		Linux: &runtime.LinuxPodSandboxStatus{Namespaces: &runtime.Namespace{
			Options: cfg.GetLinux().GetSecurityContext().GetNamespaceOptions(),
		}},
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(), RuntimeHandler: sb.Handler,
	}
}

// networkStatus gives the pod's IPs: from CNI, or the node's for a pod on
// the host network; a pod that is not ready shows the ones it had until it
// is removed.
func networkStatus(sb *pod.Sandbox) *runtime.PodSandboxNetworkStatus {
	ips := sb.IPs() // a stopped pod (or one whose shim died): its last ones
	if sb.State == pod.StateReady && sb.HostNetwork() {
		ips = network.HostIPs()
	}
	st := &runtime.PodSandboxNetworkStatus{}
	for i, ip := range ips {
		if i == 0 {
			st.Ip = ip
			continue
		}
		st.AdditionalIps = append(st.AdditionalIps, &runtime.PodIP{Ip: ip})
	}
	return st
}
