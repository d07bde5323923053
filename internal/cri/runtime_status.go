package cri

import (
	"context"
	"encoding/json"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/ocispec"
)

// Status reports the runtime and network conditions.
func (s *Server) Status(_ context.Context, req *runtime.StatusRequest) (*runtime.StatusResponse, error) {
	netCond := &runtime.RuntimeCondition{Type: runtime.NetworkReady, Status: true}
	if ok, why := s.network.Ready(); !ok {
		netCond.Status, netCond.Reason, netCond.Message = false, "NetworkPluginNotReady", "berth: "+why
	}
	resp := &runtime.StatusResponse{Status: &runtime.RuntimeStatus{Conditions: []*runtime.RuntimeCondition{
		{Type: runtime.RuntimeReady, Status: true}, netCond,
	}}, RuntimeHandlers: s.runtimeHandlers()}
	if req.GetVerbose() {
		hugetlb, _ := json.Marshal(struct {
			ocispec.Hugetlb
			Applied bool `json:"applied"`
		}{s.containers.Hugetlb(), s.containers.Hugetlb().Applies()})
		resp.Info = map[string]string{"hugepageLimits": string(hugetlb)}
	}
	return resp, nil
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
