package integration

import (
	"reflect"
	"testing"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// TestSupplementalGroupsPolicy (root): Merge (the default) adds the groups
// the image's /etc/group gives the user, Strict only those asked for; the
// process, an exec'd process and ContainerStatus's user all agree; Status
// advertises the feature.
func TestSupplementalGroupsPolicy(t *testing.T) {
	ti := images(t)
	b := startBerthd(t, "")
	st, err := b.RT.Status(ctxT(t), &runtime.StatusRequest{})
	if err != nil || !st.GetFeatures().GetSupplementalGroupsPolicy() {
		t.Fatalf("Status features: %v %v", st.GetFeatures(), err)
	}
	img := mustPull(t, b, ti.Ref("busybox:latest"))
	pod := podConfig(t, "groups")
	podID := runPod(t, b, pod)
	for _, c := range []struct {
		policy runtime.SupplementalGroupsPolicy
		idG    string
		groups []int64
	}{
		// user "berth" (1000) is in group "extra" (2000) in the image.
		{runtime.SupplementalGroupsPolicy_Merge, "1000 1234 2000", []int64{1000, 1234, 2000}},
		{runtime.SupplementalGroupsPolicy_Strict, "1000 1234", []int64{1000, 1234}},
	} {
		cfg := ctrConfig("g"+c.policy.String(), img, "sh", "-c", "id -G; sleep 1000")
		cfg.Linux.SecurityContext.RunAsUser = &runtime.Int64Value{Value: 1000}
		cfg.Linux.SecurityContext.SupplementalGroups = []int64{1234}
		cfg.Linux.SecurityContext.SupplementalGroupsPolicy = c.policy
		id := runContainer(t, b, podID, pod, cfg)
		waitForLog(t, logPathOf(pod, cfg), c.idG)
		if out := execOut(t, b, id, "id", "-G"); out != c.idG+"\n" {
			t.Errorf("%v: exec'd id -G %q, want %q", c.policy, out, c.idG)
		}
		u := ctrStatus(t, b, id).GetUser().GetLinux()
		if u.GetUid() != 1000 || u.GetGid() != 1000 || !reflect.DeepEqual(u.GetSupplementalGroups(), c.groups) {
			t.Errorf("%v: ContainerStatus user %v, want 1000/1000 %v", c.policy, u, c.groups)
		}
	}
}
