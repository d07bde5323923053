// Package cri is berth's gRPC edge: it serves the CRI RuntimeService and
// ImageService, converting requests to domain calls and errors to codes.
// No runtime logic lives here.
package cri

import (
	"google.golang.org/grpc"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"

	"github.com/berth-runtime/berth/internal/container"
	"github.com/berth-runtime/berth/internal/handlerprobe"
	"github.com/berth-runtime/berth/internal/image"
	"github.com/berth-runtime/berth/internal/network"
	"github.com/berth-runtime/berth/internal/pod"
	"github.com/berth-runtime/berth/internal/stats"
)

// kubeletAPIVersion is the version of the CRI the kubelet is told.
const kubeletAPIVersion = "0.1.0"

// Server implements the CRI services on top of berth's domain packages.
// It keeps no state of its own: what outlives a call lives below it.
type Server struct {
	runtime.UnimplementedRuntimeServiceServer
	runtime.UnimplementedImageServiceServer

	images     *image.Service
	pods       *pod.Manager
	containers *container.Manager
	network    *network.Manager
	stream     streaming.Server
	stats      *stats.Collector
	handlers   []string
	// reports and defaultHandler: what each handler can do here.
	reports        HandlerReports
	defaultHandler string
	// lists: the last list answers and their encoding (list_cache.go).
	lists *listCache
}

// Options is what the CRI edge serves from.
type Options struct {
	Images     *image.Service
	Pods       *pod.Manager
	Containers *container.Manager
	Network    *network.Manager
	// Stream serves exec, attach and port-forward sessions.
	Stream streaming.Server
	Stats  *stats.Collector
	// Handlers are the runtime handler names Status reports, Reports what
	// each can do here, DefaultHandler the one a pod naming none gets.
	Handlers       []string
	Reports        HandlerReports
	DefaultHandler string
}

// NewServer wires the CRI edge to the domain services.
func NewServer(o Options) *Server {
	return &Server{images: o.Images, pods: o.Pods, containers: o.Containers, network: o.Network, stream: o.Stream,
		stats: o.Stats, handlers: o.Handlers, reports: o.Reports, defaultHandler: o.DefaultHandler, lists: newListCache()}
}

// HandlerReports gives each runtime handler's probe report.
type HandlerReports interface {
	Report(name string) (handlerprobe.Report, bool)
}

// Register adds both CRI services, and berth's progress stream, to g.
func (s *Server) Register(g *grpc.Server) {
	runtime.RegisterRuntimeServiceServer(g, s)
	runtime.RegisterImageServiceServer(g, s)
	g.RegisterService(&progressServiceDesc, s)
	g.RegisterService(&imagesServiceDesc, s)
	g.RegisterService(&containersServiceDesc, s)
}
