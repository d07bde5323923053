// Package pod runs pod sandboxes: their pinned namespaces, files, /dev/shm,
// cgroup and berth-shim, each step undone if a later one fails.
package pod

import (
	"fmt"
	"time"

	"github.com/berth-runtime/berth/internal/idmap"
	"github.com/berth-runtime/berth/internal/network"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// State is a sandbox's state.
//
//	RunPodSandbox --> ready --StopPodSandbox--> notready --RemovePodSandbox--> (gone)
type State string

// Sandbox states.
const (
	StateReady    State = "ready"
	StateNotReady State = "notready"
)

// Sandbox is a pod sandbox as berth records it.
type Sandbox struct {
	ID        string    `json:"id"`
	State     State     `json:"state"`
	CreatedAt time.Time `json:"createdAt"`
	// ConfigProto is the PodSandboxConfig, protobuf-encoded.
	ConfigProto []byte `json:"config"`
	Handler     string `json:"handler"`
	// Dir holds the pod's volatile files: namespaces, shm, shim.
	Dir   string `json:"dir"`
	NetNS string `json:"netns,omitempty"`
	IPCNS string `json:"ipcns,omitempty"`
	UTSNS string `json:"utsns,omitempty"`
	// UserNS is the pod's own user namespace (hostUsers: false), which
	// owns its network, IPC and UTS namespaces; empty: the host's.
	UserNS   string `json:"userns,omitempty"`
	Shm      string `json:"shm,omitempty"`
	Hostname string `json:"hostname"`
	// Cgroup is the pod's cgroup; OwnsCgroup when berth made it (no
	// cgroup_parent was given) and so removes it.
	Cgroup     string `json:"cgroup"`
	OwnsCgroup bool   `json:"ownsCgroup,omitempty"`
	// InfraPid is the pause process of a pod that shares one PID namespace.
	InfraPid int `json:"infraPid,omitempty"`
	// Network is the pod's CNI attachment, until StopPodSandbox tears it down.
	Network *network.Attachment `json:"network,omitempty"`
	// LastIPs are the addresses the pod had when its network was torn
	// down: a stopped pod's status still shows them until it is removed,
	// as the kubelet keeps status.podIP of completed pods.
	LastIPs []string `json:"lastIPs,omitempty"`

	config *runtime.PodSandboxConfig
}

// Config returns the pod's CRI config.
func (s *Sandbox) Config() *runtime.PodSandboxConfig {
	if s.config == nil {
		c := &runtime.PodSandboxConfig{}
		_ = proto.Unmarshal(s.ConfigProto, c)
		s.config = c
	}
	return s.config
}

// networkReleased records that the pod's network was torn down: it keeps
// the addresses it had for its status.
func (s *Sandbox) networkReleased() {
	if s.Network != nil {
		s.LastIPs = s.Network.IPs
	}
	s.Network = nil
}

// IPs are the addresses the pod has, or had until its network went.
func (s *Sandbox) IPs() []string {
	if s.Network != nil {
		return s.Network.IPs
	}
	return s.LastIPs
}

func (s *Sandbox) clone() *Sandbox {
	c := *s
	return &c
}

// Key, Created and Copy let the registry hold sandboxes.
func (s *Sandbox) Key() string        { return s.ID }
func (s *Sandbox) Created() time.Time { return s.CreatedAt }
func (s *Sandbox) Copy() *Sandbox     { return s.clone() }

// NameKey is what makes a pod's name unique on a node.
func NameKey(m *runtime.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%d", m.GetName(), m.GetNamespace(), m.GetUid(), m.GetAttempt())
}

// HostNetwork tells whether the pod uses the node's network namespace.
func (s *Sandbox) HostNetwork() bool {
	return s.Config().GetLinux().GetSecurityContext().GetNamespaceOptions().GetNetwork() == runtime.NamespaceMode_NODE
}

// SharesPID tells whether the pod's containers share one PID namespace.
func (s *Sandbox) SharesPID() bool {
	return s.Config().GetLinux().GetSecurityContext().GetNamespaceOptions().GetPid() == runtime.NamespaceMode_POD
}

// PIDNamespace is the infra process's PID namespace, or "".
func (s *Sandbox) PIDNamespace() string {
	if s.InfraPid <= 0 {
		return ""
	}
	return fmt.Sprintf("/proc/%d/ns/pid", s.InfraPid)
}

// IDMappings are the pod's user namespace mappings, nil when it uses the
// host's user namespace.
func (s *Sandbox) IDMappings() *idmap.Mappings {
	return idmap.FromCRI(s.Config().GetLinux().GetSecurityContext().GetNamespaceOptions().GetUsernsOptions())
}

// NetworkPod describes the pod to CNI.
func (s *Sandbox) NetworkPod() network.Pod {
	cfg := s.Config()
	return network.Pod{
		ID: s.ID, NetNS: s.NetNS, Name: cfg.GetMetadata().GetName(), Namespace: cfg.GetMetadata().GetNamespace(),
		UID: cfg.GetMetadata().GetUid(), Ports: cfg.GetPortMappings(), DNS: cfg.GetDnsConfig(), Annotations: cfg.GetAnnotations(),
	}
}

// ShimDir is where the pod's berth-shim lives.
func (s *Sandbox) ShimDir() string { return s.Dir + "/shim" }
