// Command berth-pause is the infra process of pods that share one PID
// namespace: PID 1 of that namespace. It reaps the orphans re-parented to
// it and exits on SIGINT or SIGTERM. berth runs it straight from the host's
// filesystem; no pause image is pulled.
//
// With --hold-namespaces it is instead the first process of a pod's new
// user namespace: it holds that namespace (and the others berthd created
// with it) until berthd has pinned them and closes its stdin.
package main

import (
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--hold-namespaces" {
		io.Copy(io.Discard, os.Stdin)
		return
	}
	if os.Getpid() != 1 {
		os.Stderr.WriteString("berth-pause: should be PID 1 of its PID namespace\n")
	}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	for sig := range sigs {
		if sig != syscall.SIGCHLD {
			os.Exit(0)
		}
		for {
			var ws syscall.WaitStatus
			pid, err := syscall.Wait4(-1, &ws, syscall.WNOHANG, nil)
			if pid <= 0 || err != nil {
				break
			}
		}
	}
}
