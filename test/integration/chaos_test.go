package integration

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// chaosOps is how many random CRI operations TestChaos runs; berthd is
// killed about every chaosKillEvery of them.
const (
	chaosOps       = 1000
	chaosKillEvery = 50
)

// TestChaos runs random CRI operations (pods, containers, exec, images)
// and kills berthd with SIGKILL at random points, mid-operation, about
// every 50 operations. A container writing a numbered line every 10 ms
// runs throughout. At the end what the CRI reports must be what the host
// has, the ticker's log must have no missing or duplicated line, and
// after removing everything nothing may be left (the cleanup checks).
func TestChaos(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	seed := time.Now().UnixNano()
	if s := os.Getenv("BERTH_CHAOS_SEED"); s != "" {
		seed, _ = strconv.ParseInt(s, 10, 64)
	}
	t.Logf("seed %d (BERTH_CHAOS_SEED reruns it)", seed)
	c := &chaos{t: t, b: b, rnd: rand.New(rand.NewSource(seed)), busybox: mustPull(t, b, ti.Ref("busybox:latest")),
		extra: []string{ti.Ref("multilayer:latest"), ti.Ref("web:latest")}, counts: map[string]int{}}

	tickerPod := podConfig(t, "ticker")
	tickerPodID := runPod(t, b, tickerPod)
	tickerCfg := ctrConfig("ticker", c.busybox, "sh", "-c", "i=0; while true; do echo $i; i=$((i+1)); usleep 10000; done")
	tickerID := runContainer(t, b, tickerPodID, tickerPod, tickerCfg)
	c.spare = map[string]bool{tickerPodID: true, tickerID: true}

	nextKill := chaosKillEvery/2 + c.rnd.Intn(chaosKillEvery)
	for i := 0; i < chaosOps; i++ {
		op := c.pick()
		if i < nextKill {
			c.run(op)
			continue
		}
		// Kill berthd at a random moment of this operation.
		delay := time.Duration(c.rnd.Intn(40)) * time.Millisecond
		done := make(chan struct{})
		go func() { c.run(op); close(done) }()
		time.Sleep(delay)
		b.Kill()
		<-done
		c.kills++
		b.Restart()
		nextKill = i + chaosKillEvery/2 + c.rnd.Intn(chaosKillEvery)
	}
	t.Logf("%d kills; operations: %v; operations cut off and settled at start-up: %d", c.kills, c.counts,
		strings.Count(b.Log(), "cut off by a crash"))
	if c.kills < chaosOps/chaosKillEvery/2 {
		t.Fatalf("only %d kills", c.kills)
	}
	for _, e := range c.unexpected {
		t.Error(e)
	}
	// Short-lived containers (up to 0.4 s) end, and their exits are recorded.
	time.Sleep(time.Second)
	c.assertHostMatchesCRI()

	if st := ctrStatus(t, b, tickerID); st.State != runtime.ContainerState_CONTAINER_RUNNING {
		t.Fatalf("the ticker is %v", st.State)
	}
	lines := logLines(t, logPathOf(tickerPod, tickerCfg))
	for i, l := range lines {
		if n, err := strconv.Atoi(l[2]); err != nil || n != i {
			t.Fatalf("ticker line %d is %v: a gap or a duplicate", i, l)
		}
	}
	t.Logf("ticker: %d lines, none missing or duplicated", len(lines))
}

type chaos struct {
	t          *testing.T
	b          *berthd
	rnd        *rand.Rand
	busybox    string
	extra      []string
	spare      map[string]bool // the ticker: never touched
	seq        int
	kills      int
	counts     map[string]int
	unexpected []string
}

var chaosOpNames = []string{"runp", "runp", "stopp", "rmp", "create", "create", "start", "start", "stop", "rm", "exec", "exec", "pull", "rmi", "list"}

func (c *chaos) pick() string { return chaosOpNames[c.rnd.Intn(len(chaosOpNames))] }

// run performs op on a random object; answers that a crash or a race with
// an exit explains are fine, anything else is recorded as unexpected.
func (c *chaos) run(op string) {
	c.counts[op]++
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	rt, images := c.b.RT, c.b.Images
	if rt == nil {
		return
	}
	var err error
	switch op {
	case "runp":
		if len(c.pods(ctx, true)) >= 8 {
			return
		}
		c.seq++
		cfg := podConfig(c.t, fmt.Sprintf("chaos-%d", c.seq))
		var resp *runtime.RunPodSandboxResponse
		resp, err = rt.RunPodSandbox(ctx, &runtime.RunPodSandboxRequest{Config: cfg})
		if err == nil {
			c.b.podIDs = append(c.b.podIDs, resp.PodSandboxId)
		}
	case "stopp":
		if p := c.any(c.pods(ctx, false)); p != nil {
			_, err = rt.StopPodSandbox(ctx, &runtime.StopPodSandboxRequest{PodSandboxId: p.Id})
		}
	case "rmp":
		if p := c.any(c.pods(ctx, false)); p != nil {
			_, err = rt.RemovePodSandbox(ctx, &runtime.RemovePodSandboxRequest{PodSandboxId: p.Id})
		}
	case "create":
		if p := c.any(c.pods(ctx, true)); p != nil {
			c.seq++
			cmd := []string{"sleep", "1000"}
			if c.rnd.Intn(3) == 0 {
				cmd = []string{"sh", "-c", fmt.Sprintf("sleep 0.%d; exit %d", c.rnd.Intn(5), c.rnd.Intn(4))}
			}
			cfg := ctrConfig(fmt.Sprintf("c%d", c.seq), c.busybox, cmd...)
			sb := &runtime.PodSandboxConfig{Metadata: p.Metadata, LogDirectory: c.t.TempDir()}
			_, err = rt.CreateContainer(ctx, &runtime.CreateContainerRequest{PodSandboxId: p.Id, Config: cfg, SandboxConfig: sb})
		}
	case "start":
		if ctr := c.anyContainer(ctx, runtime.ContainerState_CONTAINER_CREATED); ctr != nil {
			_, err = rt.StartContainer(ctx, &runtime.StartContainerRequest{ContainerId: ctr.Id})
		}
	case "stop":
		if ctr := c.anyContainer(ctx, runtime.ContainerState_CONTAINER_RUNNING); ctr != nil {
			_, err = rt.StopContainer(ctx, &runtime.StopContainerRequest{ContainerId: ctr.Id, Timeout: int64(c.rnd.Intn(2))})
		}
	case "rm":
		if ctr := c.anyContainer(ctx, -1); ctr != nil {
			_, err = rt.RemoveContainer(ctx, &runtime.RemoveContainerRequest{ContainerId: ctr.Id})
		}
	case "exec":
		if ctr := c.anyContainer(ctx, runtime.ContainerState_CONTAINER_RUNNING); ctr != nil {
			var resp *runtime.ExecSyncResponse
			resp, err = rt.ExecSync(ctx, &runtime.ExecSyncRequest{ContainerId: ctr.Id, Cmd: []string{"echo", "hi"}, Timeout: 5})
			if err == nil && resp.ExitCode == 0 && string(resp.Stdout) != "hi\n" {
				c.unexpected = append(c.unexpected, fmt.Sprintf("exec in %s printed %q", ctr.Id, resp.Stdout))
			}
		}
	case "pull":
		_, err = images.PullImage(ctx, &runtime.PullImageRequest{Image: &runtime.ImageSpec{Image: c.extra[c.rnd.Intn(len(c.extra))]}})
	case "rmi":
		_, err = images.RemoveImage(ctx, &runtime.RemoveImageRequest{Image: &runtime.ImageSpec{Image: c.extra[c.rnd.Intn(len(c.extra))]}})
	case "list":
		_, err = rt.ListContainers(ctx, &runtime.ListContainersRequest{})
	}
	if err == nil {
		return
	}
	switch status.Code(err) {
	case codes.Unavailable, codes.Canceled: // berthd was killed under the call
	case codes.NotFound, codes.FailedPrecondition: // the object changed state (an exit) or is gone
	default:
		if c.b.cmd != nil && c.b.conn != nil {
			c.unexpected = append(c.unexpected, fmt.Sprintf("%s: %v", op, err))
		}
	}
}

func (c *chaos) pods(ctx context.Context, readyOnly bool) []*runtime.PodSandbox {
	list, err := c.b.RT.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{})
	if err != nil {
		return nil
	}
	var out []*runtime.PodSandbox
	for _, p := range list.Items {
		if !c.spare[p.Id] && (!readyOnly || p.State == runtime.PodSandboxState_SANDBOX_READY) {
			out = append(out, p)
		}
	}
	return out
}

func (c *chaos) any(pods []*runtime.PodSandbox) *runtime.PodSandbox {
	if len(pods) == 0 {
		return nil
	}
	return pods[c.rnd.Intn(len(pods))]
}

// anyContainer picks a container in state (-1: any state).
func (c *chaos) anyContainer(ctx context.Context, state runtime.ContainerState) *runtime.Container {
	list, err := c.b.RT.ListContainers(ctx, &runtime.ListContainersRequest{})
	if err != nil {
		return nil
	}
	var out []*runtime.Container
	for _, ctr := range list.Containers {
		if !c.spare[ctr.Id] && (state < 0 || ctr.State == state) {
			out = append(out, ctr)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out[c.rnd.Intn(len(out))]
}

// assertHostMatchesCRI compares what the CRI reports with what exists:
// pod dirs, pinned network namespaces, shims, pod cgroups and IPs for
// pods; runtime state (running or not), bundles and rootfs mounts for
// containers; no mount belongs to anything the CRI does not report.
func (c *chaos) assertHostMatchesCRI() {
	t, b := c.t, c.b
	pods, err := b.RT.ListPodSandbox(ctxT(t), &runtime.ListPodSandboxRequest{})
	if err != nil {
		t.Fatal(err)
	}
	ctrs, err := b.RT.ListContainers(ctxT(t), &runtime.ListContainersRequest{})
	if err != nil {
		t.Fatal(err)
	}
	mounts := map[string]bool{}
	for _, m := range mountsUnder(b.dir) {
		mounts[m] = true
	}
	ready := 0
	var podIDs, ctrIDs []string
	for _, p := range pods.Items {
		podIDs = append(podIDs, p.Id)
		netns := filepath.Join(b.State, "pods", p.Id, "ns", "net")
		isReady := p.State == runtime.PodSandboxState_SANDBOX_READY
		if mounts[netns] != isReady {
			t.Errorf("pod %s is %v but its network namespace pinned: %v", p.Id, p.State, mounts[netns])
		}
		if isReady {
			ready++
		}
		delete(mounts, netns)
		delete(mounts, filepath.Join(b.State, "pods", p.Id, "shm"))
		delete(mounts, filepath.Join(b.State, "pods", p.Id, "ns", "uts"))
		delete(mounts, filepath.Join(b.State, "pods", p.Id, "ns", "ipc"))
	}
	runcState := map[string]string{}
	entries, _ := os.ReadDir(filepath.Join(b.State, "runtime", "runc"))
	for _, e := range entries {
		out, err := exec.Command("runc", "--root", filepath.Join(b.State, "runtime", "runc"), "state", e.Name()).Output()
		if err != nil {
			t.Errorf("runc state %s: %v", e.Name(), err)
			continue
		}
		runcState[e.Name()] = string(out)
	}
	for _, ctr := range ctrs.Containers {
		ctrIDs = append(ctrIDs, ctr.Id)
		st, ok := runcState[ctr.Id]
		switch {
		case !ok:
			t.Errorf("container %s (%v) unknown to runc", ctr.Id, ctr.State)
		case ctr.State == runtime.ContainerState_CONTAINER_RUNNING && !strings.Contains(st, `"status": "running"`):
			t.Errorf("container %s is reported running, runc says %s\nberthd on it:\n%s", ctr.Id, st, linesMentioning(b.Log(), ctr.Id))
		case ctr.State == runtime.ContainerState_CONTAINER_EXITED && !strings.Contains(st, `"status": "stopped"`):
			t.Errorf("container %s is reported exited, runc says %s", ctr.Id, st)
		}
		delete(runcState, ctr.Id)
		delete(mounts, filepath.Join(b.State, "containers", ctr.Id, "rootfs"))
	}
	for id := range runcState {
		t.Errorf("runc knows %s, the CRI does not", id)
	}
	for m := range mounts {
		t.Errorf("mount of nothing the CRI reports: %s", m)
	}
	assertSameSet(t, "pod dirs", dirNames(filepath.Join(b.State, "pods")), podIDs)
	assertSameSet(t, "container bundles", dirNames(filepath.Join(b.State, "containers")), ctrIDs)
	assertSameSet(t, "writable layers", dirNames(filepath.Join(b.Root, "containers")), ctrIDs)
	cgroups := "/sys/fs/cgroup/berth" // cgroup v2
	if _, err := os.Stat("/sys/fs/cgroup/pids/berth"); err == nil {
		cgroups = "/sys/fs/cgroup/pids/berth" // v1 or hybrid
	}
	assertSameSet(t, "pod cgroups", dirNames(cgroups), podIDs)
	if shims := processesMentioning(filepath.Join(b.State, "s") + "/"); len(shims) != len(pods.Items) {
		t.Errorf("%d shims for %d pods: %v", len(shims), len(pods.Items), shims)
	}
	if ips := allocatedIPs(filepath.Join(b.State, "cni", "ipam")); len(ips) != ready {
		t.Errorf("%d IPs allocated for %d ready pods", len(ips), ready)
	}
	t.Logf("at the end: %d pods (%d ready), %d containers", len(pods.Items), ready, len(ctrs.Containers))
}

func dirNames(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var out []string
	for _, e := range entries {
		if e.IsDir() {
			out = append(out, e.Name())
		}
	}
	return out
}

func assertSameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s on the host %v, the CRI reports %v", what, got, want)
	}
}

func linesMentioning(text, s string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
