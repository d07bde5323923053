#!/usr/bin/env bash
# Start Debian's containerd (CRI plugin built in) for the side-by-side
# benchmark, with everything of its own under DIR: root, state, socket,
# registry mirrors pointing at the project's test registry, a CNI bridge
# set up like berth's default network (own bridge name and subnet).
#
#   hack/containerd-up.sh DIR REGISTRY      # REGISTRY: host:port of the test registry
#   kill "$(cat DIR/containerd.pid)"        # stop it
set -euo pipefail
DIR=${1:?usage: containerd-up.sh DIR REGISTRY}
REG=${2:?usage: containerd-up.sh DIR REGISTRY}
command -v containerd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq containerd runc >/dev/null; }
mkdir -p "$DIR"/{root,state,net.d,certs.d/docker.io,"certs.d/$REG",cni-ipam}

cat >"$DIR/config.toml" <<CONF
version = 2
root = "$DIR/root"
state = "$DIR/state"
[grpc]
  address = "$DIR/containerd.sock"
[ttrpc]
  address = "$DIR/containerd-ttrpc.sock"
[debug]
  level = "warn"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$REG/pause:latest"
  # Root here lacks CAP_SYS_RESOURCE: negative oom_score_adj would fail.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$DIR/net.d"
  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "$DIR/certs.d"
CONF

cat >"$DIR/certs.d/docker.io/hosts.toml" <<CONF
server = "http://$REG" # nothing falls through to the real registry
[host."http://$REG"]
  capabilities = ["pull", "resolve"]
CONF
cat >"$DIR/certs.d/$REG/hosts.toml" <<CONF
server = "http://$REG"
[host."http://$REG"]
  capabilities = ["pull", "resolve"]
CONF

# The same plugin chain as berth's default network, on its own bridge.
cat >"$DIR/net.d/10-bench.conflist" <<CONF
{"cniVersion": "1.0.0", "name": "containerd-bench", "plugins": [
  {"type": "bridge", "bridge": "ctrd0", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.89.0.0/16"}]], "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$DIR/cni-ipam"}},
  {"type": "portmap", "capabilities": {"portMappings": true}, "snat": true},
  {"type": "bandwidth", "capabilities": {"bandwidth": true}}
]}
CONF
iptables -t nat -C POSTROUTING -s 10.89.0.0/16 ! -d 10.89.0.0/16 -j MASQUERADE 2>/dev/null ||
  iptables -t nat -A POSTROUTING -s 10.89.0.0/16 ! -d 10.89.0.0/16 -j MASQUERADE

containerd --config "$DIR/config.toml" >"$DIR/containerd.log" 2>&1 &
echo $! >"$DIR/containerd.pid"
for _ in $(seq 100); do [ -S "$DIR/containerd.sock" ] && break; sleep 0.1; done
[ -S "$DIR/containerd.sock" ] || { cat "$DIR/containerd.log" >&2; exit 1; }
echo "containerd $(containerd --version | awk '{print $3}') on $DIR/containerd.sock (pid $(cat "$DIR/containerd.pid"))"
