// Package ociruntime builds the command lines of the OCI runtimes (runc,
// crun), in the shape of containerd's go-runc: a Runtime for what every
// call shares, an options struct per verb. It builds argv, with the
// standard library alone: berth-shim (paid per pod) runs them through its
// reaper, berthd through Run (a dead shim's ForceDelete, checkpoints). No other
// package spells a runtime verb.
package ociruntime

// Runtime is one runtime binary with its state root (--root).
type Runtime struct {
	Path string
	Root string
}

func (r Runtime) argv(verb string, args ...string) []string {
	return append([]string{r.Path, "--root", r.Root, verb}, args...)
}

// CreateOpts are create's options.
type CreateOpts struct {
	Bundle  string
	PidFile string
	// LogFile, if set, gets the runtime's own log as JSON (--log).
	LogFile string
	// ConsoleSocket receives the pty master of a container with a terminal.
	ConsoleSocket string
}

// Create makes container id from its bundle, without starting it.
func (r Runtime) Create(id string, o CreateOpts) []string {
	var global []string
	if o.LogFile != "" {
		global = []string{"--log", o.LogFile, "--log-format", "json"}
	}
	args := []string{"create", "--bundle", o.Bundle, "--pid-file", o.PidFile}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	out := append([]string{r.Path, "--root", r.Root}, global...)
	return append(append(out, args...), id)
}

// Start starts a created container.
func (r Runtime) Start(id string) []string { return r.argv("start", id) }

// Delete removes a container's state; force kills what still runs.
func (r Runtime) Delete(id string, force bool) []string {
	if force {
		return r.argv("delete", "--force", id)
	}
	return r.argv("delete", id)
}

// ExecOpts are exec's options.
type ExecOpts struct {
	ProcessFile string // the process (OCI JSON)
	PidFile     string
	// Detach with ConsoleSocket: the runtime hands over the pty and exits
	// while the process runs on (runc takes a console socket only so).
	Detach        bool
	ConsoleSocket string
}

// Exec runs another process in a running container.
func (r Runtime) Exec(id string, o ExecOpts) []string {
	args := []string{"--process", o.ProcessFile, "--pid-file", o.PidFile}
	if o.Detach {
		args = append(args, "--detach")
	}
	if o.ConsoleSocket != "" {
		args = append(args, "--console-socket", o.ConsoleSocket)
	}
	return r.argv("exec", append(args, id)...)
}

// Update changes a container's resources, read as OCI JSON from stdin.
func (r Runtime) Update(id string) []string { return r.argv("update", "--resources", "-", id) }

// Features asks the runtime what it supports (runc; crun 1.8 lacks it).
func (r Runtime) Features() []string { return []string{r.Path, "features"} }

// CheckpointOpts are checkpoint's options.
type CheckpointOpts struct {
	// ImagePath gets CRIU's images, WorkPath its log (dump.log).
	ImagePath, WorkPath string
	// Criu is the criu binary (--criu; runc's default is "criu" in PATH).
	Criu string
	// LeaveRunning lets the container run on after the dump, as the
	// kubelet's checkpoint API expects.
	LeaveRunning bool
}

// Checkpoint dumps a running container's processes with CRIU.
func (r Runtime) Checkpoint(id string, o CheckpointOpts) []string {
	out := []string{r.Path, "--root", r.Root}
	if o.Criu != "" {
		out = append(out, "--criu", o.Criu)
	}
	out = append(out, "checkpoint", "--image-path", o.ImagePath, "--work-path", o.WorkPath)
	if o.LeaveRunning {
		out = append(out, "--leave-running")
	}
	return append(out, id)
}

// RestoreOpts are restore's options.
type RestoreOpts struct {
	Bundle, PidFile string
	// ImagePath holds CRIU's images, WorkPath gets its log (restore.log).
	ImagePath, WorkPath string
	Criu                string
	LogFile             string
	ConsoleSocket       string
}

// Restore makes container id from its bundle and CRIU images, running
// (detached: the caller reaps it).
func (r Runtime) Restore(id string, o RestoreOpts) []string {
	out := []string{r.Path, "--root", r.Root}
	if o.LogFile != "" {
		out = append(out, "--log", o.LogFile, "--log-format", "json")
	}
	if o.Criu != "" {
		out = append(out, "--criu", o.Criu)
	}
	out = append(out, "restore", "--detach", "--bundle", o.Bundle, "--pid-file", o.PidFile,
		"--image-path", o.ImagePath, "--work-path", o.WorkPath)
	if o.ConsoleSocket != "" {
		out = append(out, "--console-socket", o.ConsoleSocket)
	}
	return append(out, id)
}

// Pause freezes every process of a container; Resume thaws them.
func (r Runtime) Pause(id string) []string  { return r.argv("pause", id) }
func (r Runtime) Resume(id string) []string { return r.argv("resume", id) }
