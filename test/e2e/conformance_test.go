package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// The sig-node specs of e2e.test that fit on one machine: every
// [sig-node] [Conformance] spec and every [NodeConformance] one, less
// those that stop or fill a node ([Serial], [Disruptive]) or are known
// slow or flaky upstream.
const (
	conformanceFocus = `\[sig-node\].*\[Conformance\]|\[NodeConformance\]`
	conformanceSkip  = `\[Serial\]|\[Disruptive\]|\[Slow\]|\[Flaky\]`
	// ginkgo processes: each runs its share of the specs against the cluster.
	conformanceProcs = 6
)

// ginkgoSpec is what the test reads of a spec in ginkgo's JSON report.
type ginkgoSpec struct {
	ContainerHierarchyTexts    []string
	LeafNodeText               string
	LeafNodeType               string
	State                      string
	RunTime                    time.Duration
	CapturedGinkgoWriterOutput string
	Failure                    struct {
		Message string
	}
}

func (s ginkgoSpec) name() string {
	return strings.Join(append(append([]string{}, s.ContainerHierarchyTexts...), s.LeafNodeText), " ")
}

// imageDifference is a spec that checks what an upstream image holds
// beyond what its offline rebuild can: it counts as offline when its
// failure is that very check.
type imageDifference struct {
	spec, failure, why string
}

var imageDifferences = []imageDifference{
	{"ImageVolume should succeed with pod and pull policy of Always", "can't open '/volume/etc/os-release'",
		"the kitten image is rebuilt offline on busybox, and the spec reads Alpine's /etc/os-release from it (its data.json, checked first, was read through the image volume)"},
}

func imageDifferenceOf(name, failure string) (string, bool) {
	for _, d := range imageDifferences {
		if strings.Contains(name, d.spec) && strings.Contains(failure, d.failure) {
			return d.why, true
		}
	}
	return "", false
}

// conformanceResult sorts the specs that ran: passed, failed for berth or
// the cluster, failed because an image they need cannot be had offline
// (the spec pulled one of missing), and failed because this host lacks
// what the spec needs (checked on the host, see hostLimits).
type conformanceResult struct {
	passed, skipped int
	failed          []string
	offline         map[string]string // spec -> the image it could not pull
	hostLacks       map[string]string // spec -> what this host lacks
}

// hostLimit is a spec this host cannot pass whatever the runtime does, and
// the check that shows the host lacks what it needs.
type hostLimit struct {
	spec  string // a part of the spec's name
	why   string
	lacks func() bool
}

var hostLimits = []hostLimit{
	{"PrivilegedPod [NodeConformance] should enable privileged commands",
		"the kernel has no dummy network device (CONFIG_DUMMY); the spec adds one in a privileged container", noDummyLinks},
}

// noDummyLinks tells whether this kernel cannot make a dummy link (tried
// in a network namespace of its own).
func noDummyLinks() bool {
	out, err := exec.Command("unshare", "-n", "ip", "link", "add", "probe0", "type", "dummy").CombinedOutput()
	return err != nil && strings.Contains(string(out), "Unknown device type")
}

func hostLimitOf(name string) (string, bool) {
	for _, l := range hostLimits {
		if strings.Contains(name, l.spec) && l.lacks() {
			return l.why, true
		}
	}
	return "", false
}

func classify(specs []ginkgoSpec, missing []string) conformanceResult {
	r := conformanceResult{offline: map[string]string{}, hostLacks: map[string]string{}}
	for _, s := range specs {
		if s.LeafNodeType != "It" {
			if s.State != "passed" && s.State != "skipped" {
				r.failed = append(r.failed, fmt.Sprintf("%s (%s): %s", s.LeafNodeType, s.State, firstLine(s.Failure.Message)))
			}
			continue
		}
		switch s.State {
		case "passed":
			r.passed++
		case "skipped", "pending":
			r.skipped++
		default:
			if img := imageNamed(s.Failure.Message+"\n"+s.CapturedGinkgoWriterOutput, missing); img != "" {
				r.offline[s.name()] = "its image " + img + " cannot be built offline"
				continue
			}
			if why, ok := imageDifferenceOf(s.name(), s.Failure.Message+"\n"+s.CapturedGinkgoWriterOutput); ok {
				r.offline[s.name()] = why
				continue
			}
			if why, ok := hostLimitOf(s.name()); ok {
				r.hostLacks[s.name()] = why
				continue
			}
			r.failed = append(r.failed, fmt.Sprintf("%s (%s): %s", s.name(), s.State, firstLine(s.Failure.Message)))
		}
	}
	sort.Strings(r.failed)
	return r
}

// imageNamed returns the first of images whose pull failed in text (the
// framework dumps a failed spec's pods and events: `Failed to pull image
// "X"`, `Back-off pulling image "X"`, quoted or escaped).
func imageNamed(text string, images []string) string {
	for _, img := range images {
		if strings.Contains(text, `image "`+img+`"`) || strings.Contains(text, `image \"`+img+`\"`) {
			return img
		}
	}
	return ""
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// conformance runs the sig-node conformance specs through ginkgo and
// e2e.test against the cluster. Every spec that ran must pass, except
// those whose images cannot be built offline: they are listed apart, each
// with the image it could not pull.
func conformance(t *testing.T, c *cluster, missing []string) {
	out := filepath.Join(c.dir, "conformance")
	focus := conformanceFocus
	if f := os.Getenv("BERTH_E2E_FOCUS"); f != "" { // a developer's narrower run
		focus = f
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		t.Fatal(err)
	}
	args := []string{"--nodes", fmt.Sprint(conformanceProcs), "--timeout", "50m", "--poll-progress-after", "5m",
		"--focus", focus, "--skip", conformanceSkip,
		"--output-dir", out, "--json-report", "report.json", "--no-color", "--succinct",
		filepath.Join(c.bin, "e2e.test"), "--",
		"--kubeconfig", c.kubeconfig, "--provider", "skeleton", "--report-dir", out,
		"--e2e-verify-service-account=false", "--allowed-not-ready-nodes", "0",
	}
	cmd := exec.Command(filepath.Join(c.bin, "ginkgo"), args...)
	log, err := os.Create(filepath.Join(out, "ginkgo.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	cmd.Stdout, cmd.Stderr = log, log
	cmd.Dir = out
	start := time.Now()
	runErr := cmd.Run()
	t.Logf("ginkgo ran for %s (%v); its log: %s", time.Since(start).Round(time.Second), runErr, log.Name())
	judgeReport(t, filepath.Join(out, "report.json"), missing, runErr)
}

// judgeReport sorts a ginkgo JSON report, writes summary.txt beside it and
// fails t for every spec that failed for berth or the cluster.
func judgeReport(t *testing.T, report string, missing []string, runErr error) {
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report (%v); ginkgo: %v", err, runErr)
	}
	var reports []struct{ SpecReports []ginkgoSpec }
	if err := json.Unmarshal(data, &reports); err != nil {
		t.Fatal(err)
	}
	var specs []ginkgoSpec
	for _, r := range reports {
		specs = append(specs, r.SpecReports...)
	}
	r := classify(specs, missing)
	var sum strings.Builder
	fmt.Fprintf(&sum, "sig-node conformance on berth: %d passed, %d failed, %d cannot run offline, %d cannot run on this host (%d skipped)\n",
		r.passed, len(r.failed), len(r.offline), len(r.hostLacks), r.skipped)
	for _, f := range r.failed {
		fmt.Fprintf(&sum, "FAILED %s\n", f)
	}
	names := make([]string, 0, len(r.offline))
	for n := range r.offline {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(&sum, "OFFLINE %s: %s\n", n, r.offline[n])
	}
	for n, why := range r.hostLacks {
		fmt.Fprintf(&sum, "HOST %s: %s\n", n, why)
	}
	os.WriteFile(filepath.Join(filepath.Dir(report), "summary.txt"), []byte(sum.String()), 0o600)
	t.Log(sum.String())
	if len(r.failed) > 0 {
		t.Errorf("%d sig-node conformance specs failed", len(r.failed))
	}
	// Far fewer than the ~200 of v1.36 means the focus or the cluster is off.
	if r.passed < 60 && os.Getenv("BERTH_E2E_FOCUS") == "" {
		t.Errorf("only %d specs passed", r.passed)
	}
}

// TestJudgeKeptReport sorts the report of an earlier run again (a run kept
// with BERTH_E2E_KEEP; BERTH_E2E_REPORT names its report.json, and
// BERTH_E2E_MISSING the offline images, space-separated, as that run
// logged them): for a developer who changed the sorting.
func TestJudgeKeptReport(t *testing.T) {
	report := os.Getenv("BERTH_E2E_REPORT")
	if report == "" {
		t.Skip("BERTH_E2E_REPORT is not set")
	}
	judgeReport(t, report, strings.Fields(os.Getenv("BERTH_E2E_MISSING")), nil)
}

// The sorting of a ginkgo report: runs without a cluster.
func TestClassifyConformanceReport(t *testing.T) {
	missing := []string{"registry.k8s.io/e2e-test-images/httpd:2.4.39-4"}
	specs := []ginkgoSpec{
		{LeafNodeType: "SynchronizedBeforeSuite", State: "passed"},
		{ContainerHierarchyTexts: []string{"[sig-node] Pods"}, LeafNodeText: "run", LeafNodeType: "It", State: "passed"},
		{ContainerHierarchyTexts: []string{"[sig-node] Pods"}, LeafNodeText: "pull", LeafNodeType: "It", State: "failed",
			CapturedGinkgoWriterOutput: `Warning Failed: Failed to pull image "registry.k8s.io/e2e-test-images/httpd:2.4.39-4": not found`},
		{ContainerHierarchyTexts: []string{"[sig-node] Pods"}, LeafNodeText: "backoff", LeafNodeType: "It", State: "failed",
			CapturedGinkgoWriterOutput: `message: 'Back-off pulling image "registry.k8s.io/e2e-test-images/httpd:2.4.39-4": ErrImagePull'`},
		{ContainerHierarchyTexts: []string{"[sig-node] Pods"}, LeafNodeText: "broken", LeafNodeType: "It", State: "failed",
			Failure: struct{ Message string }{"expected DONE\ngot DONE\\n"}},
		{LeafNodeType: "It", State: "skipped"},
		{LeafNodeType: "AfterSuite", State: "timedout", Failure: struct{ Message string }{"cleanup hung"}},
	}
	r := classify(specs, missing)
	if r.passed != 1 || r.skipped != 1 || len(r.offline) != 2 || !strings.Contains(r.offline["[sig-node] Pods pull"], missing[0]) || !strings.Contains(r.offline["[sig-node] Pods backoff"], missing[0]) {
		t.Fatalf("%+v", r)
	}
	if len(r.failed) != 2 || !strings.Contains(r.failed[0], "AfterSuite (timedout): cleanup hung") ||
		r.failed[1] != "[sig-node] Pods broken (failed): expected DONE" {
		t.Fatalf("failed: %q", r.failed)
	}
}
