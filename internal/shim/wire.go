// Package shim is berthd's client for berth-shim: it starts shims and
// calls them over the protocol of internal/shim/wire, whose names it
// re-exports for berthd's packages.
//
// One berth-shim runs per pod and monitors all its containers. It is the
// parent (subreaper) of their processes, holds their stdio, writes their
// CRI logs and records their exits durably, and it outlives berthd.
package shim

import "github.com/berth-runtime/berth/internal/shim/wire"

// The protocol's messages.
type (
	Request       = wire.Request
	CreateRequest = wire.CreateRequest
	ExecRequest   = wire.ExecRequest
	Response      = wire.Response
	State         = wire.State
	ExecResult    = wire.ExecResult
	StreamRequest = wire.StreamRequest
)

// Operations, error codes, statuses and file names of the protocol.
const (
	OpCreate     = wire.OpCreate
	OpStart      = wire.OpStart
	OpKill       = wire.OpKill
	OpDelete     = wire.OpDelete
	OpState      = wire.OpState
	OpList       = wire.OpList
	OpWait       = wire.OpWait
	OpExec       = wire.OpExec
	OpReopen     = wire.OpReopen
	OpShutdown   = wire.OpShutdown
	OpExecStream = wire.OpExecStream
	OpAttach     = wire.OpAttach

	CodeNotFound           = wire.CodeNotFound
	CodeAlreadyExists      = wire.CodeAlreadyExists
	CodeFailedPrecondition = wire.CodeFailedPrecondition
	CodeInvalidArgument    = wire.CodeInvalidArgument

	StatusCreated = wire.StatusCreated
	StatusRunning = wire.StatusRunning
	StatusExited  = wire.StatusExited

	PidName = wire.PidName
	LogName = wire.LogName
)

// ExitFileName is where the shim records a container's exit.
func ExitFileName(id string) string { return wire.ExitFileName(id) }
