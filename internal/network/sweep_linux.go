package network

import (
	"fmt"
	"os/exec"
	"strings"
)

// sweepRules removes the iptables rules whose comment names the pod, and
// the per-pod chains they jump to. It runs only when a plugin could not
// clean up by itself: the bridge plugin finds a pod's masquerade rules
// through the pod's interface, so a network namespace deleted by hand
// would leave them behind.
func sweepRules(podID string) error {
	for _, table := range []string{"nat", "filter"} {
		out, err := exec.Command("iptables-save", "-t", table).Output()
		if err != nil {
			return fmt.Errorf("iptables-save: %w", err)
		}
		chains := map[string]bool{}
		for _, line := range strings.Split(string(out), "\n") {
			if !strings.HasPrefix(line, "-A ") || !strings.Contains(line, `id: \"`+podID+`\"`) {
				continue
			}
			args := append([]string{"-t", table, "-D"}, splitRule(strings.TrimPrefix(line, "-A "))...)
			if out, err := exec.Command("iptables", args...).CombinedOutput(); err != nil {
				return fmt.Errorf("iptables %v: %v: %s", args, err, out)
			}
			if i := strings.Index(line, " -j CNI-"); i >= 0 {
				target := strings.Fields(line[i+4:])[0]
				if !strings.HasPrefix(target, "CNI-HOSTPORT") && !strings.HasPrefix(target, "CNI-DN-") {
					chains[target] = true
				}
			}
		}
		for chain := range chains {
			exec.Command("iptables", "-t", table, "-F", chain).Run()
			exec.Command("iptables", "-t", table, "-X", chain).Run()
		}
	}
	return nil
}

// splitRule splits an iptables-save rule into arguments, keeping quoted
// comments whole and unquoting them.
func splitRule(rule string) []string {
	var args []string
	var cur strings.Builder
	inQuote, escaped := false, false
	for _, r := range rule {
		switch {
		case escaped:
			cur.WriteRune(r)
			escaped = false
		case r == '\\':
			escaped = true
		case r == '"':
			inQuote = !inQuote
		case r == ' ' && !inQuote:
			if cur.Len() > 0 {
				args = append(args, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		args = append(args, cur.String())
	}
	return args
}
