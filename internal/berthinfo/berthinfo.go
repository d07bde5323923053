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

// RestartPolicyAnnotation on a pod asks berthd to start its containers
// again when they exit, as docker's --restart: "always", "unless-stopped"
// or "on-failure[:N]" (N restarts at most). A container stopped on request
// (StopContainer, or its pod's stop) is left alone, also across berthd
// restarts. Between restarts berthd waits 100 ms, doubling up to a minute,
// back to 100 ms once a run lasted 10 s.
const RestartPolicyAnnotation = "berth.io/restart-policy"

// KubeletPodLabel is on every pod the kubelet makes: berthd's own exit
// annotations are not honoured there (the kubelet restarts and removes
// its containers itself).
const KubeletPodLabel = "io.kubernetes.pod.uid"

// The image transfer methods berthd serves beside the CRI (which has no
// verbs for them), for `berth tag/rmi/save/load/push`. Requests and
// responses are well-known types: Structs, and BytesValue chunks of an
// archive. Other runtimes answer Unimplemented.
const (
	ImagesService = "berth.v1.Images"
	// TagMethod: {source, target} -> {id}.
	TagMethod = "/berth.v1.Images/Tag"
	// UntagMethod: {tag} -> {id, tags: [the image's tags left]}.
	UntagMethod = "/berth.v1.Images/Untag"
	// SaveMethod: {images: [...], format: "docker"|"oci"} -> a stream of
	// BytesValue chunks of the archive.
	SaveMethod = "/berth.v1.Images/Save"
	// LoadMethod: a stream of BytesValue chunks of an archive ->
	// {images: [{id, tags}]}.
	LoadMethod = "/berth.v1.Images/Load"
	// PushMethod: {source, target, username, password} -> a stream of
	// {complete, total} progress, then {digest}.
	PushMethod = "/berth.v1.Images/Push"
)

// KillMethod (berth.v1.Containers): {id, signal: number} -> {}. Sends a
// signal to a running container, which the CRI cannot.
const KillMethod = "/berth.v1.Containers/Kill"

// RestartMethod (berth.v1.Containers): {id} -> {}. Runs an exited
// container again with its writable layer, setting its stopped pod up
// again first, which the CRI cannot (docker's start of an exited one).
const RestartMethod = "/berth.v1.Containers/Restart"
