// Package wire is the protocol between berthd and berth-shim: one JSON
// request and one JSON response per line on a unix socket connection, and
// frames for streams. It imports no networking, so that the shim, which
// links it, stays small; berthd's client is internal/shim.
//
// The format must stay compatible across releases: running shims outlive
// the berthd that started them.
package wire

import (
	"encoding/json"
	"time"
)

// Version is the protocol this build speaks. It grows by one with every
// change a peer must know of (a new op or field it relies on); a shim
// answers OpVersion with it. Shims from before versioning (protocol 1)
// answer that op as unknown. Every version keeps every op of the ones
// before it: a newer berthd drives an older shim with what that shim knows.
//
//	1  create, start, kill, delete, state, list, wait, exec, reopen,
//	   shutdown, exec_stream, attach
//	2  version; an interactive (stdin_once) container's output before its
//	   first attach reaches that client; a log write cut short is taken back
//	3  update: new resources for a container, through its runtime
//	4  restore: create a container running, from CRIU images
//	5  start answers with the container's state (berthd asked state after it)
const Version = 5

// Operations.
const (
	OpVersion  = "version"
	OpCreate   = "create"
	OpStart    = "start"
	OpKill     = "kill"
	OpDelete   = "delete"
	OpState    = "state"
	OpList     = "list"
	OpWait     = "wait"
	OpExec     = "exec"
	OpReopen   = "reopen"
	OpShutdown = "shutdown"
	OpUpdate   = "update"
	OpRestore  = "restore" // Create with its Restore set
)

// Error codes carried across the socket, so berthd can restore error classes.
const (
	CodeNotFound           = "not_found"
	CodeAlreadyExists      = "already_exists"
	CodeFailedPrecondition = "failed_precondition"
	CodeInvalidArgument    = "invalid_argument"
)

// Request is one call to the shim.
type Request struct {
	Op     string         `json:"op"`
	ID     string         `json:"id,omitempty"`
	Create *CreateRequest `json:"create,omitempty"`
	Signal int            `json:"signal,omitempty"`
	Exec   *ExecRequest   `json:"exec,omitempty"`
	Stream *StreamRequest `json:"stream,omitempty"`
	// Update carries OpUpdate's resources: an OCI runtime-spec
	// LinuxResources, as the runtime's update reads it.
	Update json.RawMessage `json:"update,omitempty"`
}

// CreateRequest describes a container for the shim to create with the OCI
// runtime from an OCI bundle.
type CreateRequest struct {
	Bundle      string `json:"bundle"`
	Runtime     string `json:"runtime"`     // OCI runtime binary (runc, crun)
	RuntimeRoot string `json:"runtimeRoot"` // the runtime's --root
	LogPath     string `json:"logPath,omitempty"`
	Terminal    bool   `json:"terminal,omitempty"`
	Stdin       bool   `json:"stdin,omitempty"`
	StdinOnce   bool   `json:"stdinOnce,omitempty"`
	// CgroupPath is the container's cgroup (relative to the hierarchy
	// roots), read at exit to tell an OOM kill.
	CgroupPath string `json:"cgroupPath,omitempty"`
	// Restore, with OpRestore, brings the container's processes back from
	// a checkpoint instead of creating them: the container is running
	// when the call returns.
	Restore *RestoreRequest `json:"restore,omitempty"`
}

// RestoreRequest names a checkpoint's CRIU images.
type RestoreRequest struct {
	ImagePath string `json:"imagePath"`
	WorkPath  string `json:"workPath"` // gets CRIU's restore.log
	Criu      string `json:"criu,omitempty"`
}

// ExecRequest runs a process in a running container and collects its output.
type ExecRequest struct {
	Process json.RawMessage `json:"process"` // an OCI runtime-spec Process
	Timeout time.Duration   `json:"timeout,omitempty"`
	// MaxOutput caps each of stdout and stderr.
	MaxOutput int `json:"maxOutput,omitempty"`
}

// Response answers one Request.
type Response struct {
	Err    string      `json:"err,omitempty"`
	Code   string      `json:"code,omitempty"`
	State  *State      `json:"state,omitempty"`
	States []State     `json:"states,omitempty"`
	Exec   *ExecResult `json:"exec,omitempty"`
	// Version answers OpVersion.
	Version int `json:"version,omitempty"`
}

// Container statuses.
const (
	StatusCreated = "created"
	StatusRunning = "running"
	StatusExited  = "exited"
)

// State is what the shim knows of a container.
type State struct {
	ID        string    `json:"id"`
	Pid       int       `json:"pid,omitempty"`
	Status    string    `json:"status"`
	StartedAt time.Time `json:"startedAt,omitempty"`
	ExitCode  int32     `json:"exitCode"`
	ExitedAt  time.Time `json:"exitedAt,omitempty"`
	OOMKilled bool      `json:"oomKilled,omitempty"`
	// Message explains an abnormal exit (e.g. the runtime failed to start it).
	Message string `json:"message,omitempty"`
	// LogLost counts log lines and bytes that could not be written.
	LogLost *LogLoss `json:"logLost,omitempty"`
}

// LogLoss is what a container's log could not keep (a full disk).
type LogLoss struct {
	Lines uint64 `json:"lines"`
	Bytes uint64 `json:"bytes"`
}

// ExecResult is the outcome of an ExecRequest.
type ExecResult struct {
	Stdout   []byte `json:"stdout,omitempty"`
	Stderr   []byte `json:"stderr,omitempty"`
	ExitCode int32  `json:"exitCode"`
	TimedOut bool   `json:"timedOut,omitempty"`
}

// Files in the shim's directory.
const (
	PidName = "shim.pid"
	LogName = "shim.log"
)

// LogLossFileName is where the shim keeps a container's LogLoss (JSON),
// updated at most once a second while writes fail, for berthd's metrics.
func LogLossFileName(id string) string { return id + ".loglost" }

// ExitFileName is where the shim records a container's exit (JSON State),
// durably, for a berthd that was down when it happened.
func ExitFileName(id string) string { return id + ".exit" }
