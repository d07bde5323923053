package cri

import (
	"time"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/shim/wire"
	"github.com/berth-runtime/berth/internal/stats"
)

// metricLabels are the labels every berth metric has: the container's ID,
// name and image (for a pod's network: its ID, "POD" and ""), as CRI-O has
// them, and the container, pod and namespace labels that cAdvisor's series
// carry on the kubelet's /metrics/cadvisor (dashboards select on them).
var metricLabels = []string{"id", "name", "image", "container", "pod", "namespace"}

// containerMetric is one cAdvisor metric the kubelet can take from
// ListPodSandboxMetrics instead of cAdvisor: its descriptor, and how to
// read its values from a container's cgroup sample. Values are integers
// (the CRI's UInt64Value, which the kubelet turns into the float it
// serves): seconds are whole seconds, as in CRI-O; the CRI carries no
// fraction.
type containerMetric struct {
	name, help string
	kind       runtime.MetricType
	extra      []string // label keys beyond metricLabels
	values     func(in metricInput) []labeledValue
}

type metricInput struct {
	sample  *stats.Sample
	c       *container.Container
	layer   uint64 // writable layer bytes
	logLoss wire.LogLoss
}

type labeledValue struct {
	labels []string // values of the extra labels
	value  uint64
}

func one(v uint64) []labeledValue { return []labeledValue{{value: v}} }

func seconds(nanos uint64) uint64 { return nanos / uint64(time.Second) }

var (
	counter = runtime.MetricType_COUNTER
	gauge   = runtime.MetricType_GAUGE
)

var containerMetrics = []containerMetric{
	{"container_last_seen", "Last time a container was seen by the exporter", gauge, nil,
		func(in metricInput) []labeledValue { return one(uint64(in.sample.Time.Unix())) }},
	// cpu
	{"container_cpu_usage_seconds_total", "Cumulative cpu time consumed in seconds.", counter, []string{"cpu"},
		func(in metricInput) []labeledValue {
			return []labeledValue{{labels: []string{"total"}, value: seconds(in.sample.CPUUsageNanos)}}
		}},
	{"container_cpu_user_seconds_total", "Cumulative user cpu time consumed in seconds.", counter, nil,
		func(in metricInput) []labeledValue { return one(seconds(in.sample.CPUUserNanos)) }},
	{"container_cpu_system_seconds_total", "Cumulative system cpu time consumed in seconds.", counter, nil,
		func(in metricInput) []labeledValue { return one(seconds(in.sample.CPUSystemNanos)) }},
	{"container_cpu_cfs_periods_total", "Number of elapsed enforcement period intervals.", counter, nil,
		func(in metricInput) []labeledValue { return one(in.sample.CFSPeriods) }},
	{"container_cpu_cfs_throttled_periods_total", "Number of throttled period intervals.", counter, nil,
		func(in metricInput) []labeledValue { return one(in.sample.CFSThrottledPeriods) }},
	{"container_cpu_cfs_throttled_seconds_total", "Total time duration the container has been throttled.", counter, nil,
		func(in metricInput) []labeledValue { return one(seconds(in.sample.CFSThrottledNanos)) }},
	// memory
	{"container_memory_usage_bytes", "Current memory usage in bytes, including all memory regardless of when it was accessed", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.MemoryUsage) }},
	{"container_memory_working_set_bytes", "Current working set in bytes.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.WorkingSet) }},
	{"container_memory_rss", "Size of RSS in bytes.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.RSS) }},
	{"container_memory_cache", "Number of bytes of page cache memory.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.Cache) }},
	{"container_memory_mapped_file", "Size of memory mapped files in bytes.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.MappedFile) }},
	{"container_memory_swap", "Container swap usage in bytes.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.Swap) }},
	{"container_memory_max_usage_bytes", "Maximum memory usage recorded in bytes", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.MaxUsage) }},
	{"container_memory_failcnt", "Number of memory usage hits limits", counter, nil,
		func(in metricInput) []labeledValue { return one(in.sample.Failcnt) }},
	{"container_memory_failures_total", "Cumulative count of memory allocation failures.", counter, []string{"failure_type", "scope"},
		func(in metricInput) []labeledValue {
			x := in.sample
			return []labeledValue{
				{[]string{"pgfault", "container"}, x.PageFaults}, {[]string{"pgmajfault", "container"}, x.MajorFaults},
				{[]string{"pgfault", "hierarchy"}, x.PageFaults}, {[]string{"pgmajfault", "hierarchy"}, x.MajorFaults},
			}
		}},
	{"container_oom_events_total", "Count of out of memory events observed for the container", counter, nil,
		func(in metricInput) []labeledValue { return one(in.sample.OOMKills) }},
	// process
	{"container_processes", "Number of processes running inside the container.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.Processes) }},
	{"container_threads_max", "Maximum number of threads allowed inside the container, infinity if value is zero", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.ProcessLimit) }},
	// spec
	{"container_spec_memory_limit_bytes", "Memory limit for the container.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.sample.MemoryLimit) }},
	{"container_spec_cpu_shares", "CPU share of the container.", gauge, nil,
		func(in metricInput) []labeledValue {
			return one(uint64(in.c.Config().GetLinux().GetResources().GetCpuShares()))
		}},
	{"container_spec_cpu_quota", "CPU quota of the container.", gauge, nil,
		func(in metricInput) []labeledValue {
			return one(nonNegative(in.c.Config().GetLinux().GetResources().GetCpuQuota()))
		}},
	{"container_spec_cpu_period", "CPU period of the container.", gauge, nil,
		func(in metricInput) []labeledValue {
			return one(nonNegative(in.c.Config().GetLinux().GetResources().GetCpuPeriod()))
		}},
	// disk
	{"container_fs_usage_bytes", "Number of bytes that are consumed by the container on this filesystem.", gauge, nil,
		func(in metricInput) []labeledValue { return one(in.layer) }},
	// berth's own: what the container's log could not keep (a full disk)
	{"berth_container_log_lines_lost_total", "Log lines of the container that could not be written (berth-shim counts them).", counter, nil,
		func(in metricInput) []labeledValue { return one(in.logLoss.Lines) }},
	{"berth_container_log_bytes_lost_total", "Bytes of log lines of the container that could not be written.", counter, nil,
		func(in metricInput) []labeledValue { return one(in.logLoss.Bytes) }},
}

func nonNegative(v int64) uint64 {
	if v < 0 {
		return 0
	}
	return uint64(v)
}

// podMetric is a metric of the pod as a whole: its network.
type podMetric struct {
	name, help string
	value      func(i stats.Interface) uint64
}

var podMetrics = []podMetric{
	{"container_network_receive_bytes_total", "Cumulative count of bytes received", func(i stats.Interface) uint64 { return i.RxBytes }},
	{"container_network_receive_packets_total", "Cumulative count of packets received", func(i stats.Interface) uint64 { return i.RxPackets }},
	{"container_network_receive_packets_dropped_total", "Cumulative count of packets dropped while receiving", func(i stats.Interface) uint64 { return i.RxDropped }},
	{"container_network_receive_errors_total", "Cumulative count of errors encountered while receiving", func(i stats.Interface) uint64 { return i.RxErrors }},
	{"container_network_transmit_bytes_total", "Cumulative count of bytes transmitted", func(i stats.Interface) uint64 { return i.TxBytes }},
	{"container_network_transmit_packets_total", "Cumulative count of packets transmitted", func(i stats.Interface) uint64 { return i.TxPackets }},
	{"container_network_transmit_packets_dropped_total", "Cumulative count of packets dropped while transmitting", func(i stats.Interface) uint64 { return i.TxDropped }},
	{"container_network_transmit_errors_total", "Cumulative count of errors encountered while transmitting", func(i stats.Interface) uint64 { return i.TxErrors }},
}

// metricDescriptors describes every metric ListPodSandboxMetrics returns;
// the list never changes while berthd runs, as the CRI requires.
func metricDescriptors() []*runtime.MetricDescriptor {
	var out []*runtime.MetricDescriptor
	for _, m := range containerMetrics {
		out = append(out, &runtime.MetricDescriptor{Name: m.name, Help: m.help, LabelKeys: append(append([]string{}, metricLabels...), m.extra...)})
	}
	for _, m := range podMetrics {
		out = append(out, &runtime.MetricDescriptor{Name: m.name, Help: m.help, LabelKeys: append(append([]string{}, metricLabels...), "interface")})
	}
	return out
}
