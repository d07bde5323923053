package cri

import (
	"context"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/berthinfo"
)

// Version reports berth's name and versions.
func (s *Server) Version(context.Context, *runtime.VersionRequest) (*runtime.VersionResponse, error) {
	return &runtime.VersionResponse{
		Version:           kubeletAPIVersion,
		RuntimeName:       berthinfo.RuntimeName,
		RuntimeVersion:    berthinfo.Version,
		RuntimeApiVersion: berthinfo.CRIVersion,
	}, nil
}
