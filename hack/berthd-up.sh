#!/usr/bin/env bash
# Start berthd for the side-by-side benchmark with everything under DIR and
# docker.io mirrored to the project's test registry.
#
#   hack/berthd-up.sh DIR REGISTRY [BERTHD]
#   kill "$(cat DIR/berthd.pid)"            # stop it (SIGTERM)
set -euo pipefail
DIR=${1:?usage: berthd-up.sh DIR REGISTRY [BERTHD]}
REG=${2:?usage: berthd-up.sh DIR REGISTRY [BERTHD]}
BERTHD=${3:-bin/berthd}
mkdir -p "$DIR"
cat >"$DIR/berth.toml" <<CONF
[network]
conf_dir = "$DIR/net.d"
[[registry.hosts]]
host = "docker.io"
mirrors = ["http://$REG"]
mirrors_only = true
CONF
"$BERTHD" --config "$DIR/berth.toml" --root "$DIR/root" --state "$DIR/state" --listen "$DIR/berth.sock" >"$DIR/berthd.log" 2>&1 &
echo $! >"$DIR/berthd.pid"
for _ in $(seq 100); do [ -S "$DIR/berth.sock" ] && break; sleep 0.1; done
[ -S "$DIR/berth.sock" ] || { cat "$DIR/berthd.log" >&2; exit 1; }
echo "berthd on $DIR/berth.sock (pid $(cat "$DIR/berthd.pid"))"
