// Package container runs containers inside pod sandboxes: overlay rootfs,
// OCI spec, creation through the pod's berth-shim, and the state machine.
package container

import (
	"fmt"
	"time"

	digest "github.com/opencontainers/go-digest"
	"google.golang.org/protobuf/proto"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// State is a container's state.
//
//	CreateContainer --> created --StartContainer--> running --exit/StopContainer--> exited
//	                       |                                                          |
//	                       +------------- RemoveContainer (any state) <---------------+
//
// A failed start moves created to exited with reason StartError.
type State string

// Container states.
const (
	StateCreated State = "created"
	StateRunning State = "running"
	StateExited  State = "exited"
	StateUnknown State = "unknown"
)

// Exit reasons, as the kubelet reads them.
const (
	ReasonCompleted  = "Completed"
	ReasonError      = "Error"
	ReasonOOMKilled  = "OOMKilled"
	ReasonStartError = "StartError"
	ReasonUnknown    = "Unknown"
)

// Container is a container as berth records it.
type Container struct {
	ID          string    `json:"id"`
	PodID       string    `json:"podID"`
	ConfigProto []byte    `json:"config"`
	State       State     `json:"state"`
	CreatedAt   time.Time `json:"createdAt"`
	StartedAt   time.Time `json:"startedAt,omitempty"`
	FinishedAt  time.Time `json:"finishedAt,omitempty"`
	ExitCode    int32     `json:"exitCode"`
	Reason      string    `json:"reason,omitempty"`
	Message     string    `json:"message,omitempty"`
	Pid         int       `json:"pid,omitempty"`

	ImageID   string `json:"imageID"`
	ImageName string `json:"imageName"`
	ImageRef  string `json:"imageRef"` // repo digest when known, else the ID
	// Layers are the chain IDs the rootfs stacks, kept from image GC.
	Layers     []digest.Digest `json:"layers"`
	StopSignal string          `json:"stopSignal,omitempty"`

	LogPath string `json:"logPath,omitempty"`
	Bundle  string `json:"bundle"`  // volatile: config.json, rootfs mount point
	DataDir string `json:"dataDir"` // persistent: overlay upper and work dirs
	Cgroup  string `json:"cgroup"`
	Handler string `json:"handler"`
	// User is the process's identity as resolved at creation (ContainerStatus
	// reports it); empty for containers made before berth recorded it.
	User *User `json:"user,omitempty"`
	// StopRequested says the last exit followed a stop (StopContainer,
	// or its pod's stop), which a restart policy leaves alone.
	StopRequested bool `json:"stopRequested,omitempty"`
	// RestartCount counts Restart calls (berth's own: the CRI's attempt
	// numbers new containers).
	RestartCount int `json:"restartCount,omitempty"`
	// RestoreFrom, on a container created from a checkpoint archive and
	// not started yet, holds CRIU's images of its processes: its start
	// restores them.
	RestoreFrom string `json:"restoreFrom,omitempty"`

	config *runtime.ContainerConfig
}

// User is a container process's uid, gid and every group it is in (the
// gid among them, as `id -G` shows them).
type User struct {
	UID    uint32   `json:"uid"`
	GID    uint32   `json:"gid"`
	Groups []uint32 `json:"groups"`
}

// Config returns the container's CRI config.
func (c *Container) Config() *runtime.ContainerConfig {
	if c.config == nil {
		cfg := &runtime.ContainerConfig{}
		_ = proto.Unmarshal(c.ConfigProto, cfg)
		c.config = cfg
	}
	return c.config
}

func (c *Container) clone() *Container {
	cp := *c
	return &cp
}

// Key, Created and Copy let the registry hold containers.
func (c *Container) Key() string        { return c.ID }
func (c *Container) Created() time.Time { return c.CreatedAt }
func (c *Container) Copy() *Container   { return c.clone() }

// Rootfs is where the container's overlay is mounted.
func (c *Container) Rootfs() string { return c.Bundle + "/rootfs" }

// UpperDir is the container's writable layer (the overlay's upper dir).
func (c *Container) UpperDir() string { return c.DataDir + "/upper" }

// NameKey is what makes a container's name unique on a node.
func NameKey(m *runtime.ContainerMetadata, pod *runtime.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%s_%d", m.GetName(), pod.GetName(), pod.GetNamespace(), pod.GetUid(), m.GetAttempt())
}

func exitReason(code int32, oom bool) string {
	switch {
	case oom:
		return ReasonOOMKilled
	case code == 0:
		return ReasonCompleted
	}
	return ReasonError
}
