package validate

import (
	"fmt"
	"strconv"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// MinMemoryLimit is the smallest memory limit accepted (docker's floor):
// below it the container's own runtime cannot even start.
const MinMemoryLimit = 6 << 20

// Resources checks container (or pod overhead) resources; field is where
// they sit in the request.
func Resources(field string, r *runtime.LinuxContainerResources) error {
	if r == nil {
		return nil
	}
	if v := r.GetCpuPeriod(); v != 0 && (v < 1000 || v > 1000000) {
		return fieldError(field+".cpu_period", "%d is outside 1000..1000000 (microseconds)", v)
	}
	if v := r.GetCpuQuota(); v != 0 && v != -1 && v < 1000 {
		return fieldError(field+".cpu_quota", "%d must be -1, 0 or at least 1000 (microseconds)", v)
	}
	if v := r.GetCpuShares(); v != 0 && (v < 2 || v > 262144) {
		return fieldError(field+".cpu_shares", "%d is outside 2..262144", v)
	}
	mem := r.GetMemoryLimitInBytes()
	if mem != 0 && mem < MinMemoryLimit {
		return fieldError(field+".memory_limit_in_bytes", "%d is below the minimum of %d bytes", mem, MinMemoryLimit)
	}
	if v := r.GetMemorySwapLimitInBytes(); v != 0 && v != -1 && (v < 0 || (mem > 0 && v < mem)) {
		return fieldError(field+".memory_swap_limit_in_bytes", "%d must be -1, 0 or at least the memory limit %d", v, mem)
	}
	if v := r.GetOomScoreAdj(); v < -1000 || v > 1000 {
		return fieldError(field+".oom_score_adj", "%d is outside -1000..1000", v)
	}
	if err := cpuList(field+".cpuset_cpus", r.GetCpusetCpus()); err != nil {
		return err
	}
	if err := cpuList(field+".cpuset_mems", r.GetCpusetMems()); err != nil {
		return err
	}
	for i, h := range r.GetHugepageLimits() {
		if err := PageSize(fmt.Sprintf("%s.hugepage_limits[%d].page_size", field, i), h.GetPageSize()); err != nil {
			return err
		}
	}
	for k, v := range r.GetUnified() {
		if err := unifiedKey(field+".unified["+k+"]", k, v); err != nil {
			return err
		}
	}
	return nil
}

// cpuList checks the kernel's list format: "0-3,5,7-8".
func cpuList(field, s string) error {
	if s == "" {
		return nil
	}
	for _, part := range strings.Split(s, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.ParseUint(lo, 10, 16)
		b, err2 := a, error(nil)
		if isRange {
			b, err2 = strconv.ParseUint(hi, 10, 16)
		}
		if err1 != nil || err2 != nil || b < a {
			return fieldError(field, "%q is not a list such as 0-3,5", s)
		}
	}
	return nil
}

// PageSize checks a hugepage size as the kubelet writes it: "2MB", "1GB".
func PageSize(field, s string) error {
	_, err := PageSizeBytes(s)
	if err != nil {
		return fieldError(field, "%q is not a page size such as 2MB or 1GB", s)
	}
	return nil
}

// PageSizeBytes parses a hugepage size ("2MB") to bytes; it must be a
// power of two.
func PageSizeBytes(s string) (uint64, error) {
	units := map[string]uint64{"KB": 1 << 10, "MB": 1 << 20, "GB": 1 << 30, "TB": 1 << 40, "PB": 1 << 50}
	if len(s) < 3 {
		return 0, fmt.Errorf("bad page size %q", s)
	}
	unit, ok := units[s[len(s)-2:]]
	n, err := strconv.ParseUint(s[:len(s)-2], 10, 32)
	if !ok || err != nil || n == 0 || n&(n-1) != 0 {
		return 0, fmt.Errorf("bad page size %q", s)
	}
	return n * unit, nil
}

// unifiedKey checks a cgroup v2 file name: "<controller>.<name>", no
// path separators, so nothing outside the container's cgroup is written.
func unifiedKey(field, k, v string) error {
	ctrl, name, ok := strings.Cut(k, ".")
	if !ok || ctrl == "" || name == "" || strings.ContainsAny(k, "/\\") || strings.Contains(k, "..") {
		return fieldError(field, "%q is not a cgroup file name such as memory.high", k)
	}
	for _, r := range k {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '.') {
			return fieldError(field, "%q is not a cgroup file name such as memory.high", k)
		}
	}
	if strings.ContainsAny(v, "\n\x00") {
		return fieldError(field, "value %q holds a newline or NUL", v)
	}
	return nil
}
