package ocispec

import (
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// setSysctls applies the pod's sysctls in the container (its namespaces
// are the pod's); network sysctls are skipped for host-network pods.
func setSysctls(s *specs.Spec, in *Input) {
	hostNet := in.Sandbox.GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtime.NamespaceMode_NODE
	for k, v := range in.Sandbox.GetLinux().GetSysctls() {
		if hostNet && strings.HasPrefix(k, "net.") {
			continue
		}
		if s.Linux.Sysctl == nil {
			s.Linux.Sysctl = map[string]string{}
		}
		s.Linux.Sysctl[k] = v
	}
}
