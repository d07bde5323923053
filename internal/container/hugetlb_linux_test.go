package container

import (
	"os"
	"strings"
	"testing"
)

const hybridMounts = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`

func TestHugetlbDetection(t *testing.T) {
	controllers := func(list string) func(string) ([]byte, error) {
		return func(p string) ([]byte, error) {
			if strings.HasSuffix(p, "/cgroup.controllers") {
				return []byte(list + "\n"), nil
			}
			return nil, os.ErrNotExist
		}
	}
	cases := []struct {
		name, mounts, controllers string
		usable                    bool
		reason                    string
	}{
		{"hybrid, hugetlb on cgroup2 (this VM as it boots)", hybridMounts, "hugetlb", false, "hybrid cgroups"},
		{"hybrid with a v1 hugetlb hierarchy", hybridMounts + "45 31 0:40 / /sys/fs/cgroup/hugetlb rw - cgroup cgroup rw,hugetlb\n", "", true, "/sys/fs/cgroup/hugetlb"},
		{"v1 co-mounted", "35 31 0:32 / /sys/fs/cgroup/x rw - cgroup cgroup rw,memory,hugetlb\n", "", true, "v1"},
		{"unified with hugetlb", "26 23 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw,nsdelegate\n", "cpuset cpu io memory hugetlb pids", true, "cgroup2"},
		{"unified without hugetlb", "26 23 0:24 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n", "cpu memory pids", false, "no cgroup hierarchy has"},
		{"no cgroups", "22 1 0:5 / /proc rw - proc proc rw\n", "", false, "no cgroup hierarchy is mounted"},
	}
	for _, c := range cases {
		usable, reason := hugetlbFromMountinfo(strings.NewReader(c.mounts), controllers(c.controllers))
		if usable != c.usable || !strings.Contains(reason, c.reason) {
			t.Errorf("%s: usable %v (%s), want %v mentioning %q", c.name, usable, reason, c.usable, c.reason)
		}
	}
}
