// Package berthinfo is what berthd and its clients (the berth CLI) share:
// berth's name and versions, and the names of the methods berthd serves
// beside the CRI. It imports nothing, so the CLI links no daemon code.
package berthinfo

// Names reported by the CRI's Version call.
const (
	RuntimeName = "berth"
	CRIVersion  = "v1"
)

// Version is berth's own version, set by the linker.
var Version = "0.1.0-dev"

// PullProgressMethod is berth's one extension beside the CRI: a stream of
// the progress of pulls of one reference, for `berth pull`'s progress bars.
// The request is a StringValue (the image reference); each response is a
// Struct with the fields of the image service's progress events, the first
// one being {"subscribed": true} so the client knows it can start the pull.
// Other runtimes answer Unimplemented and the CLI shows no bars.
const PullProgressMethod = "/berth.v1.Progress/PullProgress"

// RemoveOnExitAnnotation on a pod asks berthd to remove the pod, and the
// log directory it names, once every container in it has exited (`berth
// run --rm -d`: nobody stays to remove it).
const RemoveOnExitAnnotation = "berth.io/remove-on-exit"
