package main

import (
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"

	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// parsePublish reads docker-style -p values:
// [[HOST-IP:][HOST-PORT]:]CONTAINER-PORT[/tcp|/udp]. A missing host port
// is 0: claimHostPorts picks a free one.
func parsePublish(specs []string) ([]*runtime.PortMapping, error) {
	var out []*runtime.PortMapping
	for _, spec := range specs {
		proto := runtime.Protocol_TCP
		rest := spec
		if p, ok := strings.CutSuffix(rest, "/udp"); ok {
			rest, proto = p, runtime.Protocol_UDP
		} else {
			rest = strings.TrimSuffix(rest, "/tcp")
		}
		parts := strings.Split(rest, ":")
		var hostIP, hostPort, ctrPort string
		switch len(parts) {
		case 1:
			ctrPort = parts[0]
		case 2:
			hostPort, ctrPort = parts[0], parts[1]
		case 3:
			hostIP, hostPort, ctrPort = parts[0], parts[1], parts[2]
		default:
			return nil, fmt.Errorf("-p %q: want [[HOST-IP:][HOST-PORT]:]CONTAINER-PORT[/udp]", spec)
		}
		if hostIP != "" && net.ParseIP(hostIP) == nil {
			return nil, fmt.Errorf("-p %q: %q is not an IP address", spec, hostIP)
		}
		hp, err1 := strconv.ParseUint(hostPort, 10, 16)
		if hostPort == "" {
			hp, err1 = 0, nil
		}
		cp, err2 := strconv.ParseUint(ctrPort, 10, 16)
		if err1 != nil || err2 != nil || cp == 0 || (hostPort != "" && hp == 0) {
			return nil, fmt.Errorf("-p %q: ports must be 1-65535", spec)
		}
		out = append(out, &runtime.PortMapping{Protocol: proto, HostIp: hostIP, HostPort: int32(hp), ContainerPort: int32(cp)})
	}
	return out, nil
}

// exposedPorts are the image's exposed ports, each to be published on a
// free host port (-P).
func (c *client) exposedPorts(imageID string) ([]*runtime.PortMapping, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	st, err := c.Images.ImageStatus(ctx, &runtime.ImageStatusRequest{Image: &runtime.ImageSpec{Image: imageID}, Verbose: true})
	if err != nil {
		return nil, c.explain(err)
	}
	var info struct {
		ImageSpec struct {
			Config struct {
				ExposedPorts map[string]struct{}
			} `json:"config"`
		} `json:"imageSpec"`
	}
	if err := json.Unmarshal([]byte(st.GetInfo()["info"]), &info); err != nil {
		return nil, fmt.Errorf("-P: the runtime does not say which ports the image exposes: %v", err)
	}
	var specs []string
	for p := range info.ImageSpec.Config.ExposedPorts {
		specs = append(specs, p)
	}
	sort.Strings(specs)
	return parsePublish(specs)
}

// claimHostPorts picks a free host port for each mapping without one, and
// refuses a host port that another pod publishes or a host process
// listens on (docker: "port is already allocated"): the pod's DNAT rule
// would silently take the port over.
func (c *client) claimHostPorts(mappings []*runtime.PortMapping) error {
	if len(mappings) == 0 {
		return nil
	}
	taken, err := c.publishedPorts()
	if err != nil {
		return err
	}
	for _, m := range mappings {
		if m.HostPort == 0 {
			port, err := freeHostPort(m)
			if err != nil {
				return err
			}
			m.HostPort = port
			continue
		}
		for _, t := range taken {
			if t.m.Protocol == m.Protocol && t.m.HostPort == m.HostPort && ipsOverlap(t.m.HostIp, m.HostIp) {
				return fmt.Errorf("-p %s: port is already allocated (pod %s publishes it)", describePort(m), t.pod)
			}
		}
		l, err := listenOn(m, int(m.HostPort))
		if err != nil {
			return fmt.Errorf("-p %s: port is already allocated (%v)", describePort(m), err)
		}
		l.Close()
	}
	return nil
}

type publishedPort struct {
	pod string
	m   *runtime.PortMapping
}

// publishedPorts are the host ports of every ready pod, from each pod's
// config.
func (c *client) publishedPorts() ([]publishedPort, error) {
	ctx, cancel := c.ctx()
	defer cancel()
	pods, err := c.Runtime.ListPodSandbox(ctx, &runtime.ListPodSandboxRequest{Filter: &runtime.PodSandboxFilter{
		State: &runtime.PodSandboxStateValue{State: runtime.PodSandboxState_SANDBOX_READY}}})
	if err != nil {
		return nil, c.explain(err)
	}
	var out []publishedPort
	for _, p := range pods.Items {
		st, err := c.Runtime.PodSandboxStatus(ctx, &runtime.PodSandboxStatusRequest{PodSandboxId: p.Id, Verbose: true})
		if err != nil {
			continue // removed meanwhile
		}
		var info struct {
			Config struct {
				PortMappings []*runtime.PortMapping `json:"port_mappings"`
			} `json:"config"`
		}
		json.Unmarshal([]byte(st.GetInfo()["info"]), &info)
		for _, m := range info.Config.PortMappings {
			if m.HostPort > 0 {
				out = append(out, publishedPort{pod: p.GetMetadata().GetName(), m: m})
			}
		}
	}
	return out, nil
}

func ipsOverlap(a, b string) bool {
	wild := func(ip string) bool { return ip == "" || ip == "0.0.0.0" || ip == "::" }
	return wild(a) || wild(b) || net.ParseIP(a).Equal(net.ParseIP(b))
}

type closer interface{ Close() error }

// listenOn binds the mapping's host address and port (0: any free one).
func listenOn(m *runtime.PortMapping, port int) (closer, error) {
	addr := net.JoinHostPort(m.HostIp, strconv.Itoa(port))
	if m.Protocol == runtime.Protocol_UDP {
		return net.ListenPacket("udp", addr)
	}
	return net.Listen("tcp", addr)
}

// freeHostPort asks the kernel for a free port on the mapping's host address.
func freeHostPort(m *runtime.PortMapping) (int32, error) {
	l, err := listenOn(m, 0)
	if err != nil {
		return 0, fmt.Errorf("-p %s: no free host port: %v", describePort(m), err)
	}
	defer l.Close()
	switch a := l.(type) {
	case net.Listener:
		return int32(a.Addr().(*net.TCPAddr).Port), nil
	case net.PacketConn:
		return int32(a.LocalAddr().(*net.UDPAddr).Port), nil
	}
	return 0, fmt.Errorf("-p %s: no free host port", describePort(m))
}

func describePort(m *runtime.PortMapping) string {
	s := fmt.Sprintf("%d:%d", m.HostPort, m.ContainerPort)
	if m.HostIp != "" {
		s = m.HostIp + ":" + s
	}
	if m.Protocol == runtime.Protocol_UDP {
		s += "/udp"
	}
	return s
}
