package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Status reports the runtime and network conditions.
func (s *Server) Status(context.Context, *runtime.StatusRequest) (*runtime.StatusResponse, error) {
	netCond := &runtime.RuntimeCondition{Type: runtime.NetworkReady, Status: true}
	if ok, why := s.network.Ready(); !ok {
		netCond.Status, netCond.Reason, netCond.Message = false, "NetworkPluginNotReady", "berth: "+why
	}
	return &runtime.StatusResponse{Status: &runtime.RuntimeStatus{Conditions: []*runtime.RuntimeCondition{
		{Type: runtime.RuntimeReady, Status: true}, netCond,
	}}, RuntimeHandlers: s.runtimeHandlers()}, nil
}

// runtimeHandlers lists the handlers; "" is the default one, as the
// kubelet looks it up.
func (s *Server) runtimeHandlers() []*runtime.RuntimeHandler {
	out := []*runtime.RuntimeHandler{{Name: "", Features: &runtime.RuntimeHandlerFeatures{}}}
	for _, h := range s.handlers {
		out = append(out, &runtime.RuntimeHandler{Name: h, Features: &runtime.RuntimeHandlerFeatures{}})
	}
	return out
}
