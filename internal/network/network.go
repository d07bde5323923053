// Package network gives pods their network through CNI plugins, driven by
// libcni: the default network is the first config in the conf dir, or
// berth's own bridge network when the conf dir has none.
package network

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/containernetworking/cni/libcni"
	"github.com/containernetworking/cni/pkg/invoke"
)

// Options configures pod networking.
type Options struct {
	// ConfDir is where cluster networks put their configs (/etc/cni/net.d).
	ConfDir string
	// BinDirs are searched for plugins.
	BinDirs []string
	// StateDir holds berth's CNI state: the libcni cache, berth's default
	// network config and its IP allocations.
	StateDir string
	// DefaultNetwork, when true, makes berth use its own bridge network
	// while ConfDir has none.
	DefaultNetwork bool
	// Bridge and Subnet describe berth's default network.
	Bridge string
	Subnet string
	// NoMasquerade are destinations (CIDRs) the default network's pods
	// reach with their own IP, not masqueraded: other nodes' pod subnets.
	NoMasquerade []string
	// ClaimDir holds host-wide claims on default-network bridges and
	// subnets (DefaultClaimDir when empty).
	ClaimDir string
}

// Manager sets pods' networks up and tears them down.
type Manager struct {
	opts Options
	cni  *libcni.CNIConfig

	mu       sync.Mutex
	list     *libcni.NetworkConfigList
	loadErr  error
	stamp    string // what the conf dir looked like at the last load
	podCIDR  string
	lastScan time.Time
	// masquerade installs the default network's masquerade rule (a hook
	// so that unit tests leave the host's iptables alone).
	masquerade func() error
	claim      *claim // held for berthd's life (its files hold the locks)
}

// New prepares networking. No network needs to exist yet: Ready says so.
func New(o Options) (*Manager, error) {
	cache := filepath.Join(o.StateDir, "cache")
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return nil, err
	}
	m := &Manager{opts: o, cni: libcni.NewCNIConfigWithCacheDir(o.BinDirs, cache, nil)}
	if o.DefaultNetwork {
		dir := o.ClaimDir
		if dir == "" {
			dir = DefaultClaimDir
		}
		var err error
		if m.claim, err = claimDefaultNetwork(dir, o.Bridge, o.Subnet, ownerString(o.StateDir)); err != nil {
			return nil, err
		}
	}
	m.masquerade = m.ensureMasquerade
	m.reload()
	return m, nil
}

// rescanInterval bounds how often the conf dir is looked at: kubelet asks
// Status every few seconds, and a stat of the dir is all it costs.
const rescanInterval = time.Second

// current returns the network pods join now, reloading it if the conf
// dir changed (a cluster network add-on installed its config later).
func (m *Manager) current() (*libcni.NetworkConfigList, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if time.Since(m.lastScan) >= rescanInterval {
		m.lastScan = time.Now()
		if stamp := dirStamp(m.opts.ConfDir); stamp != m.stamp {
			m.reloadLocked(stamp)
		}
	}
	return m.list, m.loadErr
}

func (m *Manager) reload() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.reloadLocked(dirStamp(m.opts.ConfDir))
}

func (m *Manager) reloadLocked(stamp string) {
	m.stamp = stamp
	m.list, m.loadErr = m.load()
}

// load picks the first network config (by file name) of the conf dir,
// else berth's default network when enabled.
func (m *Manager) load() (*libcni.NetworkConfigList, error) {
	files, err := libcni.ConfFiles(m.opts.ConfDir, []string{".conf", ".conflist", ".json"})
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read CNI conf dir %s: %w", m.opts.ConfDir, err)
	}
	sort.Strings(files)
	var firstErr error
	for _, f := range files {
		list, err := loadFile(f)
		if err == nil {
			return list, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	if m.opts.DefaultNetwork {
		if err := m.masquerade(); err != nil {
			return nil, err
		}
		return libcni.ConfListFromBytes(m.defaultConfList())
	}
	return nil, fmt.Errorf("no network config found in %s", m.opts.ConfDir)
}

func loadFile(path string) (*libcni.NetworkConfigList, error) {
	if filepath.Ext(path) == ".conflist" {
		list, err := libcni.ConfListFromFile(path)
		if err != nil {
			return nil, fmt.Errorf("CNI config %s: %w", path, err)
		}
		return list, nil
	}
	conf, err := libcni.ConfFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("CNI config %s: %w", path, err)
	}
	list, err := libcni.ConfListFromConf(conf)
	if err != nil {
		return nil, fmt.Errorf("CNI config %s: %w", path, err)
	}
	return list, nil
}

// dirStamp summarises the conf dir's files (names, sizes, times).
func dirStamp(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "missing"
	}
	s := ""
	for _, e := range entries {
		if info, err := e.Info(); err == nil {
			s += fmt.Sprintf("%s:%d:%d;", e.Name(), info.Size(), info.ModTime().UnixNano())
		}
	}
	return s
}

// Ready tells whether pods can get a network, and if not, why.
func (m *Manager) Ready() (bool, string) {
	list, err := m.current()
	if err != nil {
		return false, err.Error()
	}
	for _, p := range list.Plugins {
		if _, err := invoke.FindInPath(p.Network.Type, m.opts.BinDirs); err != nil {
			return false, fmt.Sprintf("network %q: plugin %q not found in %v", list.Name, p.Network.Type, m.opts.BinDirs)
		}
	}
	return true, ""
}

// SetPodCIDR records the node's pod CIDR (UpdateRuntimeConfig); plugins
// that take a "podCIDR" capability get it.
func (m *Manager) SetPodCIDR(cidr string) {
	m.mu.Lock()
	m.podCIDR = cidr
	m.mu.Unlock()
}
