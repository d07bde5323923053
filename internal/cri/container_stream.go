package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// Exec returns the URL of an interactive exec session on the streaming server.
func (s *Server) Exec(_ context.Context, req *runtime.ExecRequest) (*runtime.ExecResponse, error) {
	if err := requireField(req.GetContainerId() != "", "container_id"); err != nil {
		return nil, err
	}
	if !req.GetStdin() && !req.GetStdout() && !req.GetStderr() {
		return nil, errdefs.InvalidArgument("one of stdin, stdout and stderr must be requested")
	}
	if err := s.containers.CheckExec(req.GetContainerId(), req.GetCmd()); err != nil {
		return nil, err
	}
	return s.stream.GetExec(req)
}

// Attach returns the URL of an attach session.
func (s *Server) Attach(_ context.Context, req *runtime.AttachRequest) (*runtime.AttachResponse, error) {
	if err := requireField(req.GetContainerId() != "", "container_id"); err != nil {
		return nil, err
	}
	if err := s.containers.CheckAttach(req.GetContainerId()); err != nil {
		return nil, err
	}
	return s.stream.GetAttach(req)
}

// PortForward returns the URL of a port-forward session into a pod.
func (s *Server) PortForward(_ context.Context, req *runtime.PortForwardRequest) (*runtime.PortForwardResponse, error) {
	sb, err := s.pods.Get(req.GetPodSandboxId())
	if err != nil {
		return nil, err
	}
	for _, p := range req.GetPort() {
		if p <= 0 || p > 65535 {
			return nil, errdefs.InvalidArgument("port %d is out of range", p)
		}
	}
	req.PodSandboxId = sb.ID
	return s.stream.GetPortForward(req)
}
