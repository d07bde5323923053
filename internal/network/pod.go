package network

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/types"
	types100 "github.com/containernetworking/cni/pkg/types/100"
	runtime "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/berth-runtime/berth/internal/errdefs"
)

// IfName is the pod's interface.
const IfName = "eth0"

// Pod is what CNI needs to know of a pod.
type Pod struct {
	ID        string
	NetNS     string
	Name      string
	Namespace string
	UID       string
	Ports     []*runtime.PortMapping
	DNS       *runtime.DNSConfig
	// Annotations may carry kubernetes.io/{ingress,egress}-bandwidth.
	Annotations map[string]string
}

// Attachment is what a pod got: the network config it was set up with
// (kept so that teardown works even after the config changed or went
// away) and its IPs, primary first.
type Attachment struct {
	ConfList []byte   `json:"confList"`
	IPs      []string `json:"ips"`
}

// Setup runs CNI ADD in the pod's network namespace. A failed ADD is
// rolled back with DEL, so nothing (veth, IP, rules) stays. chosen, if
// set, is told the network config before ADD runs, so that a caller can
// record it and tear the pod down after a crash in the middle of ADD.
func (m *Manager) Setup(ctx context.Context, p Pod, chosen func(*Attachment) error) (*Attachment, error) {
	list, err := m.current()
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errdefs.ErrFailedPrecondition, err)
	}
	rt, err := m.runtimeConf(p)
	if err != nil {
		return nil, err
	}
	if chosen != nil {
		if err := chosen(&Attachment{ConfList: list.Bytes}); err != nil {
			return nil, err
		}
	}
	res, err := m.cni.AddNetworkList(ctx, list, rt)
	if err != nil {
		_ = m.del(context.WithoutCancel(ctx), list, rt)
		return nil, fmt.Errorf("network %q: %w", list.Name, err)
	}
	ips, err := resultIPs(res)
	if err != nil {
		_ = m.del(context.WithoutCancel(ctx), list, rt)
		return nil, fmt.Errorf("network %q: %w", list.Name, err)
	}
	return &Attachment{ConfList: list.Bytes, IPs: ips}, nil
}

// Teardown runs CNI DEL with the config the pod was set up with. It is
// idempotent, and works when the namespace is already gone.
func (m *Manager) Teardown(ctx context.Context, p Pod, a *Attachment) error {
	if a == nil || len(a.ConfList) == 0 {
		return nil
	}
	list, err := libcni.ConfListFromBytes(a.ConfList)
	if err != nil {
		return fmt.Errorf("network config of pod %s: %w", p.ID, err)
	}
	netnsGone := false
	if _, err := os.Stat(p.NetNS); err != nil {
		p.NetNS, netnsGone = "", true // deleted by hand: plugins clean up what they can without it
	}
	rt, err := m.runtimeConf(p)
	if err != nil {
		return err
	}
	if err := m.del(ctx, list, rt); err != nil {
		return fmt.Errorf("network %q teardown: %w", list.Name, err)
	}
	if netnsGone {
		return sweepRules(p.ID)
	}
	return nil
}

func (m *Manager) runtimeConf(p Pod) (*libcni.RuntimeConf, error) {
	caps := map[string]any{}
	var mappings []map[string]any
	for _, pm := range p.Ports {
		if pm.GetHostPort() <= 0 {
			continue
		}
		mappings = append(mappings, map[string]any{
			"hostPort": pm.GetHostPort(), "containerPort": pm.GetContainerPort(),
			"protocol": protocol(pm.GetProtocol()), "hostIP": pm.GetHostIp(),
		})
	}
	if len(mappings) > 0 {
		caps["portMappings"] = mappings
	}
	if d := p.DNS; d != nil {
		caps["dns"] = map[string]any{"servers": d.GetServers(), "searches": d.GetSearches(), "options": d.GetOptions()}
	}
	bw, err := bandwidth(p.Annotations)
	if err != nil {
		return nil, err
	}
	if bw != nil {
		caps["bandwidth"] = bw
	}
	m.mu.Lock()
	if m.podCIDR != "" {
		caps["podCIDR"] = m.podCIDR
	}
	m.mu.Unlock()
	for _, v := range []string{p.Namespace, p.Name, p.ID, p.UID} {
		if strings.ContainsAny(v, ";=\x00\n\r") {
			return nil, errdefs.InvalidArgument("pod metadata %q cannot be passed in CNI_ARGS (';', '=' or a control character)", v)
		}
	}
	return &libcni.RuntimeConf{
		ContainerID: p.ID, NetNS: p.NetNS, IfName: IfName, CapabilityArgs: caps,
		Args: [][2]string{
			{"IgnoreUnknown", "1"}, {"K8S_POD_NAMESPACE", p.Namespace}, {"K8S_POD_NAME", p.Name},
			{"K8S_POD_INFRA_CONTAINER_ID", p.ID}, {"K8S_POD_UID", p.UID},
		},
	}, nil
}

// del runs CNI DEL for the whole chain. libcni stops at the first plugin
// whose DEL fails, which would leave the plugins before it in the chain
// (the IPAM's address above all) in place; so then DEL runs again plugin
// by plugin, last first, each on its own, and the first error is returned
// (the kubelet retries; DEL is idempotent).
func (m *Manager) del(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf) error {
	err := m.cni.DelNetworkList(ctx, list, rt)
	if err == nil || len(list.Plugins) < 2 {
		return err
	}
	for i := len(list.Plugins) - 1; i >= 0; i-- {
		one := &libcni.NetworkConfigList{Name: list.Name, CNIVersion: list.CNIVersion, Plugins: list.Plugins[i : i+1]}
		if perr := m.cni.DelNetworkList(ctx, one, rt); perr != nil {
			slog.Warn("CNI DEL failed", "network", list.Name, "plugin", list.Plugins[i].Network.Type, "pod", rt.ContainerID, "err", perr)
		}
	}
	return err
}

func protocol(p runtime.Protocol) string {
	switch p {
	case runtime.Protocol_UDP:
		return "udp"
	case runtime.Protocol_SCTP:
		return "sctp"
	}
	return "tcp"
}

// resultIPs lists the IPs of the pod's interface, IPv4 first.
func resultIPs(res types.Result) ([]string, error) {
	r, err := types100.NewResultFromResult(res)
	if err != nil {
		return nil, err
	}
	var v4, v6 []string
	for _, ip := range r.IPs {
		if ip.Address.IP.To4() != nil {
			v4 = append(v4, ip.Address.IP.String())
		} else {
			v6 = append(v6, ip.Address.IP.String())
		}
	}
	if len(v4)+len(v6) == 0 {
		return nil, errors.New("the plugins gave the pod no IP")
	}
	return append(v4, v6...), nil
}

// HostIPs are the node's addresses, for host-network pods: the first
// global IPv4 and IPv6 of an interface that is up.
func HostIPs() []string {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var v4, v6 string
	for _, iface := range ifaces {
		if iface.Flags&net.FlagUp == 0 || iface.Flags&net.FlagLoopback != 0 {
			continue
		}
		addrs, _ := iface.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || !ipn.IP.IsGlobalUnicast() {
				continue
			}
			if ipn.IP.To4() != nil && v4 == "" {
				v4 = ipn.IP.String()
			} else if ipn.IP.To4() == nil && v6 == "" {
				v6 = ipn.IP.String()
			}
		}
	}
	var out []string
	for _, ip := range []string{v4, v6} {
		if ip != "" {
			out = append(out, ip)
		}
	}
	return out
}
