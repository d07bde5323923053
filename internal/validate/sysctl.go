package validate

import "strings"

// ipcSysctls are the kernel.* sysctls that belong to the IPC namespace.
var ipcSysctls = map[string]bool{
	"kernel.msgmax": true, "kernel.msgmnb": true, "kernel.msgmni": true, "kernel.sem": true,
	"kernel.shmall": true, "kernel.shmmax": true, "kernel.shmmni": true, "kernel.shm_rmid_forced": true,
}

// Sysctl accepts only sysctls that are namespaced, and so stay inside the
// pod: the IPC ones (not with host IPC) and net.* (not with host network).
// Node-wide ones such as kernel.panic would change the host. Names may use
// '/' as the separator, as the kubelet allows.
func Sysctl(name, value string, hostNet, hostIPC bool) error {
	field := "config.linux.sysctls[" + name + "]"
	if err := text(field, name+value); err != nil {
		return err
	}
	n := name
	if strings.Contains(n, "/") {
		n = strings.ReplaceAll(n, "/", ".")
	}
	switch {
	case n == "" || strings.Contains(n, ".."):
		return fieldError(field, "%q is not a sysctl name", name)
	case ipcSysctls[n] || strings.HasPrefix(n, "fs.mqueue."):
		if hostIPC {
			return fieldError(field, "%q belongs to the IPC namespace and the pod uses the host's", name)
		}
	case strings.HasPrefix(n, "net."):
		if hostNet {
			return fieldError(field, "%q belongs to the network namespace and the pod uses the host's", name)
		}
	default:
		return fieldError(field, "%q is not namespaced: it would change the whole node", name)
	}
	return nil
}
