package cri

import (
	"context"
	"encoding/json"
	"fmt"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/handlerprobe"
	"github.com/berth-runtime/berth/internal/ocispec"
)

// Status reports the runtime and network conditions, and each handler's
// features as its start-up probe found them. A handler that cannot create
// containers here has a false condition of its own with the reason;
// RuntimeReady is false when that is the default handler.
func (s *Server) Status(_ context.Context, req *runtime.StatusRequest) (*runtime.StatusResponse, error) {
	netCond := &runtime.RuntimeCondition{Type: runtime.NetworkReady, Status: true}
	if ok, why := s.network.Ready(); !ok {
		netCond.Status, netCond.Reason, netCond.Message = false, "NetworkPluginNotReady", "berth: "+why
	}
	rtCond := &runtime.RuntimeCondition{Type: runtime.RuntimeReady, Status: true}
	conds := []*runtime.RuntimeCondition{rtCond, netCond}
	for _, h := range s.handlers {
		r, ok := s.report(h)
		if !ok || r.Ready {
			continue
		}
		conds = append(conds, &runtime.RuntimeCondition{Type: "berth.io/handler-" + h + "-ready", Status: false,
			Reason: "HandlerNotReady", Message: fmt.Sprintf("runtime handler %q cannot create containers on this host: %s", h, r.Reason)})
		if h == s.defaultHandler {
			rtCond.Status, rtCond.Reason = false, "DefaultHandlerNotReady"
			rtCond.Message = fmt.Sprintf("berth: the default runtime handler %q cannot create containers on this host: %s", h, r.Reason)
		}
	}
	resp := &runtime.StatusResponse{Status: &runtime.RuntimeStatus{Conditions: conds}, RuntimeHandlers: s.runtimeHandlers(),
		Features: &runtime.RuntimeFeatures{SupplementalGroupsPolicy: true}}
	if req.GetVerbose() {
		hugetlb, _ := json.Marshal(struct {
			ocispec.Hugetlb
			Applied bool `json:"applied"`
		}{s.containers.Hugetlb(), s.containers.Hugetlb().Applies()})
		resp.Info = map[string]string{"hugepageLimits": string(hugetlb)}
		handlers := map[string]handlerprobe.Report{}
		for _, h := range s.handlers {
			if r, ok := s.report(h); ok {
				handlers[h] = r
			}
		}
		if data, err := json.Marshal(handlers); err == nil {
			resp.Info["handlers"] = string(data)
		}
	}
	return resp, nil
}

func (s *Server) report(handler string) (handlerprobe.Report, bool) {
	if s.reports == nil {
		return handlerprobe.Report{}, false
	}
	return s.reports.Report(handler)
}

// runtimeHandlers lists the handlers with their features; "" is the
// default one, as the kubelet looks it up.
func (s *Server) runtimeHandlers() []*runtime.RuntimeHandler {
	features := func(h string) *runtime.RuntimeHandlerFeatures {
		r, _ := s.report(h)
		return &runtime.RuntimeHandlerFeatures{RecursiveReadOnlyMounts: r.RecursiveReadOnlyMounts, UserNamespaces: r.UserNamespaces}
	}
	out := []*runtime.RuntimeHandler{{Name: "", Features: features(s.defaultHandler)}}
	for _, h := range s.handlers {
		out = append(out, &runtime.RuntimeHandler{Name: h, Features: features(h)})
	}
	return out
}
