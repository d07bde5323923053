#!/usr/bin/env bash
# Build the kubelet from the Go module proxy into a cache dir, with the
# module recipe in ../shared/tools/kubernetes (its README); prints the
# binary's path. A cached binary of the same version is reused.
#
#   hack/build-kubelet.sh [CACHE_DIR]      (default: $HOME/.cache/berth-e2e)
set -euo pipefail
cd "$(dirname "$0")/.."
RECIPE=${BERTH_K8S_RECIPE:-../shared/tools/kubernetes}
CACHE=${1:-${BERTH_E2E_CACHE:-$HOME/.cache/berth-e2e}}
# The version from the recipe's go.mod: a one-line require or a block.
V=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == "k8s.io/kubernetes" {print $3; exit}' "$RECIPE/go.mod")
[ -n "$V" ] || { echo "build-kubelet: no k8s.io/kubernetes version in $RECIPE/go.mod" >&2; exit 1; }
BIN="$CACHE/$V/kubelet"
if [ ! -x "$BIN" ]; then
  mkdir -p "$CACHE/$V/src"
  cp -r "$RECIPE/." "$CACHE/$V/src/"
  chmod -R u+w "$CACHE/$V/src"
  MINOR=$(echo "$V" | cut -d. -f2)
  LD="-X k8s.io/component-base/version.gitVersion=$V -X k8s.io/component-base/version.gitMajor=1 \
      -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/client-go/pkg/version.gitVersion=$V"
  (cd "$CACHE/$V/src" && go mod tidy >&2 && go build -ldflags "$LD" -o "$BIN" k8s.io/kubernetes/cmd/kubelet >&2)
fi
"$BIN" --version >&2
echo "$BIN"
