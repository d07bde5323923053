package container

import (
	"bufio"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/berth-runtime/berth/internal/ocispec"
)

// DetectHugetlb finds out whether runc and crun can apply hugepage limits
// here, from the host's cgroup mounts: on a v1 or hybrid host only a v1
// hierarchy bound to hugetlb counts (the runtimes' v1 managers never use
// the cgroup2 mount for it); on a unified host, the cgroup2 root must list
// hugetlb among its controllers.
func DetectHugetlb(policy string) ocispec.Hugetlb {
	h := ocispec.Hugetlb{Policy: policy}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		h.Reason = err.Error()
		return h
	}
	defer f.Close()
	h.Usable, h.Reason = hugetlbFromMountinfo(f, func(p string) ([]byte, error) { return os.ReadFile(p) })
	return h
}

// hugetlbFromMountinfo reads mountinfo lines; readFile reads the cgroup2
// root's cgroup.controllers.
func hugetlbFromMountinfo(r io.Reader, readFile func(string) ([]byte, error)) (bool, string) {
	var v1Mounts, cgroup2At []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		sep := -1
		for i, f := range fields {
			if f == "-" {
				sep = i
				break
			}
		}
		if sep < 5 || len(fields) < sep+4 {
			continue
		}
		mountpoint, fstype, super := fields[4], fields[sep+1], fields[sep+3]
		switch fstype {
		case "cgroup":
			v1Mounts = append(v1Mounts, mountpoint)
			for _, o := range strings.Split(super, ",") {
				if o == "hugetlb" {
					return true, "hugetlb is bound to the cgroup v1 hierarchy at " + mountpoint
				}
			}
		case "cgroup2":
			cgroup2At = append(cgroup2At, mountpoint)
		}
	}
	for _, at := range cgroup2At {
		data, err := readFile(at + "/cgroup.controllers")
		if err != nil || !slices.Contains(strings.Fields(string(data)), "hugetlb") {
			continue
		}
		if len(v1Mounts) > 0 {
			return false, "hybrid cgroups: hugetlb is bound to the cgroup2 mount at " + at + ", which the runtimes' v1 cgroup managers do not use"
		}
		return true, "hugetlb is enabled in the cgroup2 hierarchy at " + at
	}
	if len(v1Mounts) == 0 && len(cgroup2At) == 0 {
		return false, "no cgroup hierarchy is mounted"
	}
	return false, "no cgroup hierarchy has the hugetlb controller"
}
