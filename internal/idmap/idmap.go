// Package idmap gives a pod its own user namespace: the ID mappings the
// kubelet asks for (hostUsers: false), namespaces owned by that user
// namespace, and idmapped mounts that show files owned by host root as
// owned by the pod's root.
package idmap

import (
	"fmt"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// Mapping maps Size IDs from ContainerID inside to HostID outside.
type Mapping struct {
	ContainerID, HostID, Size uint32
}

// Mappings are a pod's UID and GID mappings.
type Mappings struct {
	UIDs, GIDs []Mapping
}

// FromCRI takes a validated CRI user namespace request; nil when the pod
// uses the host's user namespace.
func FromCRI(u *runtime.UserNamespace) *Mappings {
	if u == nil || u.GetMode() != runtime.NamespaceMode_POD {
		return nil
	}
	conv := func(in []*runtime.IDMapping) []Mapping {
		out := make([]Mapping, 0, len(in))
		for _, m := range in {
			out = append(out, Mapping{ContainerID: m.GetContainerId(), HostID: m.GetHostId(), Size: m.GetLength()})
		}
		return out
	}
	return &Mappings{UIDs: conv(u.GetUids()), GIDs: conv(u.GetGids())}
}

// Root is the host UID and GID that the pod's root is.
func (m *Mappings) Root() (uid, gid int, err error) {
	uid, ok := toHost(m.UIDs, 0)
	gid, ok2 := toHost(m.GIDs, 0)
	if !ok || !ok2 {
		return 0, 0, fmt.Errorf("the pod's user namespace does not map its root")
	}
	return uid, gid, nil
}

func toHost(ms []Mapping, id uint32) (int, bool) {
	for _, m := range ms {
		if id >= m.ContainerID && id-m.ContainerID < m.Size {
			return int(m.HostID + (id - m.ContainerID)), true
		}
	}
	return 0, false
}
