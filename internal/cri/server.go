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
type Server struct {
	runtime.UnimplementedRuntimeServiceServer
	runtime.UnimplementedImageServiceServer

	images     *image.Service
	pods       *pod.Manager
	containers *container.Manager
	network    *network.Manager
	stream     streaming.Server
	handlers   []string
	// reports and defaultHandler: what each handler can do here.
	reports        HandlerReports
	defaultHandler string
	rates          stats.Rates
	layerUsage     usageCache
}

// SetStreamServer wires the exec/attach/port-forward server.
func (s *Server) SetStreamServer(ss streaming.Server) { s.stream = ss }

// NewServer wires the CRI edge to the domain services. handlers are the
// runtime handler names Status reports.
func NewServer(images *image.Service, pods *pod.Manager, containers *container.Manager, net *network.Manager,
	handlers []string, reports HandlerReports, defaultHandler string) *Server {
	return &Server{images: images, pods: pods, containers: containers, network: net, handlers: handlers,
		reports: reports, defaultHandler: defaultHandler}
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
