package idmap

import (
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestFromCRI(t *testing.T) {
	if FromCRI(nil) != nil || FromCRI(&runtime.UserNamespace{Mode: runtime.NamespaceMode_NODE}) != nil {
		t.Fatal("absent and NODE are the host's user namespace")
	}
	m := FromCRI(&runtime.UserNamespace{
		Mode: runtime.NamespaceMode_POD,
		Uids: []*runtime.IDMapping{{ContainerId: 0, HostId: 65536, Length: 65536}},
		Gids: []*runtime.IDMapping{{ContainerId: 0, HostId: 131072, Length: 65536}},
	})
	uid, gid, err := m.Root()
	if err != nil || uid != 65536 || gid != 131072 {
		t.Fatalf("root %d:%d %v", uid, gid, err)
	}
	uids, gids := m.OCI()
	if len(uids) != 1 || uids[0].HostID != 65536 || uids[0].Size != 65536 || gids[0].HostID != 131072 {
		t.Fatalf("OCI mappings %v %v", uids, gids)
	}
}

func TestRootMustBeMapped(t *testing.T) {
	m := &Mappings{UIDs: []Mapping{{ContainerID: 1, HostID: 1000, Size: 10}}, GIDs: []Mapping{{0, 1000, 10}}}
	if _, _, err := m.Root(); err == nil {
		t.Fatal("a mapping without root has a root")
	}
	if id, ok := toHost(m.UIDs, 10); !ok || id != 1009 {
		t.Fatalf("uid 10 -> %d %v, want 1009", id, ok)
	}
	if _, ok := toHost(m.UIDs, 11); ok {
		t.Fatal("uid 11 is past the mapping")
	}
}
