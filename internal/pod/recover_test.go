package pod

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
	"github.com/berth-runtime/berth/internal/network"
)

func TestDiscardOrphansUndoesWhatTheJournalSays(t *testing.T) {
	tp := newTestPods(t)
	kept := tp.add(t, "p1", "kept")
	id := "0f" + strings.Repeat("1", 62) // a RunPodSandbox cut off before its record
	orphan := &Sandbox{ID: id, Dir: tp.podDir(id), Cgroup: "/kubepods/x",
		Network: &network.Attachment{IPs: []string{"10.88.0.9"}}}
	if err := os.MkdirAll(orphan.Dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := journal(orphan); err != nil {
		t.Fatal(err)
	}
	stray := filepath.Join(tp.opts.StateDir, "s", "abcdefabcdefabcdefabcdef.sock") // a socket of no pod
	os.MkdirAll(filepath.Dir(stray), 0o700)
	os.WriteFile(stray, nil, 0o600)
	tp.DiscardOrphans(ctx)
	if !slices.Equal(tp.net.teardowns, []string{id + " 10.88.0.9"}) {
		t.Fatalf("CNI DEL for the orphan: %v", tp.net.teardowns)
	}
	if _, err := os.Stat(orphan.Dir); !os.IsNotExist(err) {
		t.Fatalf("the orphan's dir was kept: %v", err)
	}
	if _, err := os.Stat(kept.Dir); err != nil {
		t.Fatalf("a recorded pod's dir went: %v", err)
	}
	if _, err := os.Stat(stray); !os.IsNotExist(err) {
		t.Fatalf("a stray shim socket was kept: %v", err)
	}
}

func TestHandlerIsTheDefaultOrAKnownOne(t *testing.T) {
	tp := newTestPods(t)
	if h, err := tp.handler(""); err != nil || h != "runc" {
		t.Fatalf("default handler: %q %v", h, err)
	}
	if h, err := tp.handler("crun"); err != nil || h != "crun" {
		t.Fatalf("crun: %q %v", h, err)
	}
	if _, err := tp.handler("kata"); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("unknown handler: %v", err)
	}
	tp.notReady["crun"] = "hybrid cgroups"
	if _, err := tp.handler("crun"); !errdefs.Is(err, errdefs.ErrFailedPrecondition) || !strings.Contains(err.Error(), "hybrid") {
		t.Fatalf("a handler that cannot run: %v", err)
	}
}

func TestShimProtocolOfAShimThatDoesNotAnswer(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web")
	if v := tp.ShimProtocol(ctx, s); v != 0 {
		t.Fatalf("a shim that is not there speaks protocol %d", v)
	}
	tp.shimProtocols.Store(s.ID, 1)
	if v := tp.ShimProtocol(ctx, s); v != 1 {
		t.Fatalf("a remembered protocol: %d", v)
	}
}

func TestSandboxViews(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web")
	// No namespace options: the CRI's zero value, POD, shares one PID
	// namespace (the kubelet says CONTAINER for pods that do not).
	if s.HostNetwork() || !s.SharesPID() || s.PIDNamespace() != "" {
		t.Fatalf("a plain pod: host network %v, shares PID %v, %q", s.HostNetwork(), s.SharesPID(), s.PIDNamespace())
	}
	s.InfraPid = 42
	if s.PIDNamespace() != "/proc/42/ns/pid" {
		t.Fatalf("PID namespace %q", s.PIDNamespace())
	}
	np := s.NetworkPod()
	if np.ID != s.ID || np.Name != "web" || np.Namespace != "ns" || np.UID != "uid-web" {
		t.Fatalf("network view %+v", np)
	}
	if s.ShimDir() != s.Dir+"/shim" || !strings.HasSuffix(tp.shimSocket(s.ID), s.ID[:24]+".sock") {
		t.Fatalf("shim paths %q %q", s.ShimDir(), tp.shimSocket(s.ID))
	}
	c := s.clone()
	c.State = StateNotReady
	if s.State != StateReady {
		t.Fatal("a clone shares its state")
	}
}

func TestARetriedRunGetsThePodTheFirstOneMade(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web")
	same, err := tp.Run(ctx, s.Config(), "runc")
	if err != nil || same.ID != s.ID {
		t.Fatalf("a retried RunPodSandbox: %v %v", same, err)
	}
	if len(tp.List()) != 1 || tp.net.ip != 0 {
		t.Fatal("the retry made something")
	}
	other := proto.Clone(s.Config()).(*runtime.PodSandboxConfig)
	other.Hostname = "changed"
	if _, err := tp.Run(ctx, other, "runc"); !errdefs.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("another config under the same name: %v", err)
	}
	if _, err := tp.Run(ctx, s.Config(), "crun"); !errdefs.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("the same config with another handler: %v", err)
	}
	tp.Stop(ctx, s.ID)
	if _, err := tp.Run(ctx, s.Config(), "runc"); !errdefs.Is(err, errdefs.ErrAlreadyExists) {
		t.Fatalf("the name of a stopped pod: %v", err)
	}
}

func TestUpdateResourcesRecordsTheResize(t *testing.T) {
	tp := newTestPods(t)
	s := tp.add(t, "p1", "web") // in the kubelet's cgroup: only recorded
	res := &runtime.LinuxContainerResources{MemoryLimitInBytes: 256 << 20, CpuQuota: 50000, CpuPeriod: 100000}
	if err := tp.UpdateResources(ctx, s.ID, nil, res); err != nil {
		t.Fatal(err)
	}
	if got := tp.mustGet(t, s.ID).Config().GetLinux().GetResources(); !proto.Equal(got, res) {
		t.Fatalf("recorded resources %v", got)
	}
	if err := tp.UpdateResources(ctx, "", nil, res); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("no ID: %v", err)
	}
	bad := &runtime.LinuxContainerResources{MemoryLimitInBytes: 1}
	if err := tp.UpdateResources(ctx, s.ID, nil, bad); !errdefs.Is(err, errdefs.ErrInvalidArgument) {
		t.Fatalf("a memory limit below the floor: %v", err)
	}
	tp.Stop(ctx, s.ID)
	if err := tp.UpdateResources(ctx, s.ID, nil, res); !errdefs.Is(err, errdefs.ErrFailedPrecondition) {
		t.Fatalf("resize of a stopped pod: %v", err)
	}
}
