package integration

import (
	"testing"
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func TestContainerAndPodStats(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "stats")
	podID := runPod(t, b, pod)
	burner := runContainer(t, b, podID, pod, ctrConfig("burner", img, "sh", "-c", "while :; do :; done"))
	filler := runContainer(t, b, podID, pod, ctrConfig("filler", img, "sh", "-c", "head -c 52428800 /dev/zero > /dev/shm/fill; echo x > /tmp/written; sleep 1000"))
	time.Sleep(time.Second)

	first, err := b.RT.ContainerStats(ctxT(t), &runtime.ContainerStatsRequest{ContainerId: burner})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second)
	second, err := b.RT.ContainerStats(ctxT(t), &runtime.ContainerStatsRequest{ContainerId: burner})
	if err != nil {
		t.Fatal(err)
	}
	if first.Stats.Cpu.UsageCoreNanoSeconds.Value == 0 || second.Stats.Cpu.UsageCoreNanoSeconds.Value <= first.Stats.Cpu.UsageCoreNanoSeconds.Value {
		t.Fatalf("cpu usage did not grow: %v -> %v", first.Stats.Cpu, second.Stats.Cpu)
	}
	// A busy loop on a 2-core machine: close to one core.
	if nc := second.Stats.Cpu.UsageNanoCores.Value; nc < 6e8 || nc > 13e8 {
		t.Fatalf("busy loop uses %d nano cores, want about 1e9", nc)
	}
	list, err := b.RT.ListContainerStats(ctxT(t), &runtime.ListContainerStatsRequest{Filter: &runtime.ContainerStatsFilter{Id: filler}})
	if err != nil || len(list.Stats) != 1 {
		t.Fatalf("list stats: %v %v", list, err)
	}
	fs := list.Stats[0]
	if ws := fs.Memory.WorkingSetBytes.Value; ws < 50<<20 {
		t.Fatalf("50 MB in the pod's shm: working set %d", ws)
	}
	if fs.WritableLayer.UsedBytes.Value == 0 || fs.WritableLayer.InodesUsed.Value < 2 {
		t.Fatalf("writable layer %+v", fs.WritableLayer)
	}
	ps, err := b.RT.PodSandboxStats(ctxT(t), &runtime.PodSandboxStatsRequest{PodSandboxId: podID})
	if err != nil {
		t.Fatal(err)
	}
	l := ps.Stats.Linux
	if len(l.Containers) != 2 || l.Memory.WorkingSetBytes.Value < 50<<20 || l.Process.ProcessCount.Value < 2 {
		t.Fatalf("pod stats: %d containers, memory %v, processes %v", len(l.Containers), l.Memory, l.Process)
	}
	if l.Network == nil || l.Network.DefaultInterface == nil || l.Network.DefaultInterface.Name != "eth0" {
		t.Fatalf("pod network stats: %v", l.Network)
	}
	all, err := b.RT.ListPodSandboxStats(ctxT(t), &runtime.ListPodSandboxStatsRequest{})
	if err != nil || len(all.Stats) != 1 {
		t.Fatalf("list pod stats: %v %v", all, err)
	}
}
