#!/usr/bin/env bash
# make bench: berth and containerd side by side on this machine, with the
# same images (from the project's test registry), pod and container
# configs, and CNI plugin chain. Prints the table; -o json with BENCH_FLAGS.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(mktemp -d /tmp/berth-bench.XXXXXX)
cleanup() {
  for p in "$WORK"/ctrd/containerd.pid "$WORK"/berth/berthd.pid "$WORK"/registry.pid; do
    [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null || true
  done
  sleep 2
  grep "$WORK" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT
make build >/dev/null
# Built, not `go run`: the pid kill sees is the registry's own (go run's
# child outlived the bench).
go build -o "$WORK/testregistry" ./test/fixture/testregistry
"$WORK/testregistry" -addr-file "$WORK/registry.addr" -pause bin/berth-pause -big >"$WORK/registry.log" 2>&1 &
echo $! >"$WORK/registry.pid"
for _ in $(seq 300); do [ -s "$WORK/registry.addr" ] && break; sleep 0.2; done
REG=$(cat "$WORK/registry.addr")
hack/containerd-up.sh "$WORK/ctrd" "$REG"
hack/berthd-up.sh "$WORK/berth" "$REG"
bin/berth --endpoint "$WORK/berth/berth.sock" bench --vs "$WORK/ctrd/containerd.sock" \
  --log-dir "$WORK/logs" --pull-image "$REG/big:latest" ${BENCH_FLAGS:--n 50 --pods 20 --idle 60s}
