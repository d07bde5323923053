package container

import (
	"bytes"
	"io"

	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// marshalConfig encodes cfg, keeping old if encoding fails.
func marshalConfig(cfg *runtime.ContainerConfig, old []byte) []byte {
	data, err := proto.Marshal(cfg)
	if err != nil {
		return old
	}
	return data
}
