#!/usr/bin/env bash
# Build the Kubernetes binaries the e2e tests use from the Go module proxy
# into a cache dir, with the module recipe in ../shared/tools/kubernetes
# (its README): kubelet, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, agnhost, nnp (the nonewprivs image's program),
# e2e.test and the ginkgo runner (parallel specs), and etcd from its own
# module.
# Binaries already in the cache are reused. Prints the cache dir.
#
#   hack/build-k8s.sh [CACHE_DIR] [BINARY...]   (default: $HOME/.cache/berth-e2e, all)
set -euo pipefail
cd "$(dirname "$0")/.."
RECIPE=${BERTH_K8S_RECIPE:-../shared/tools/kubernetes}
CACHE=${1:-${BERTH_E2E_CACHE:-$HOME/.cache/berth-e2e}}
shift || true
ETCD_VERSION=${BERTH_ETCD_VERSION:-v3.6.16}
# The version from the recipe's go.mod: a one-line require or a block.
V=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ {print $2; exit} $1 == "require" && $2 == "k8s.io/kubernetes" {print $3; exit}' "$RECIPE/go.mod")
[ -n "$V" ] || { echo "build-k8s: no k8s.io/kubernetes version in $RECIPE/go.mod" >&2; exit 1; }
OUT="$CACHE/$V"
WANT=("$@")
[ ${#WANT[@]} -gt 0 ] || WANT=(kubelet kube-apiserver kube-controller-manager kube-scheduler kubectl agnhost nnp e2e.test ginkgo etcd)
mkdir -p "$OUT"
MINOR=$(echo "$V" | cut -d. -f2)
LD="-X k8s.io/component-base/version.gitVersion=$V -X k8s.io/component-base/version.gitMajor=1 \
    -X k8s.io/component-base/version.gitMinor=$MINOR -X k8s.io/client-go/pkg/version.gitVersion=$V"

src() {
  if [ ! -f "$OUT/src/.tidy" ]; then
    mkdir -p "$OUT/src"
    cp -r "$RECIPE/." "$OUT/src/"
    chmod -R u+w "$OUT/src"
    (cd "$OUT/src" && go mod tidy >&2) && touch "$OUT/src/.tidy"
  fi
}

# e2e.test's own test file imports packages tools.go does not reach: name
# them in a file of the build copy and tidy again.
e2e_src() {
  [ -f "$OUT/src/.tidy-e2e" ] && return
  local f
  f="$(cd "$OUT/src" && go env GOMODCACHE)/k8s.io/kubernetes@$V/test/e2e/e2e_test.go"
  { echo '//go:build tools'; echo; echo 'package tools'; echo; echo 'import ('
    awk '/^import \(/ {in_=1; next} in_ && /^\)/ {exit} in_ && $NF ~ /^"[a-z].*\./ {print "\t_ " $NF}' "$f"
    echo ')'; } > "$OUT/src/e2e_tools.go"
  (cd "$OUT/src" && go mod tidy >&2) && touch "$OUT/src/.tidy-e2e"
}

for b in "${WANT[@]}"; do
  [ -x "$OUT/$b" ] && continue
  echo "build-k8s: building $b $V" >&2
  case $b in
    kubelet|kube-apiserver|kube-controller-manager|kube-scheduler|kubectl)
      src; (cd "$OUT/src" && go build -ldflags "$LD" -o "$OUT/$b.tmp" "k8s.io/kubernetes/cmd/$b" >&2) ;;
    agnhost)
      src; (cd "$OUT/src" && CGO_ENABLED=0 go build -o "$OUT/$b.tmp" k8s.io/kubernetes/test/images/agnhost >&2) ;;
    e2e.test)
      src; e2e_src
      (cd "$OUT/src" && go test -c -vet=off -ldflags "$LD" -o "$OUT/$b.tmp" k8s.io/kubernetes/test/e2e >&2) ;;
    ginkgo)
      src; e2e_src; (cd "$OUT/src" && go build -o "$OUT/$b.tmp" github.com/onsi/ginkgo/v2/ginkgo >&2) ;;
    nnp)
      src; (cd "$OUT/src" && CGO_ENABLED=0 go build -o "$OUT/$b.tmp" k8s.io/kubernetes/test/images/nonewprivs >&2) ;;
    etcd)
      mkdir -p "$OUT/etcd-src"
      (cd "$OUT/etcd-src" && { [ -f go.mod ] || go mod init berth.local/etcdbuild >&2; } \
        && go get "go.etcd.io/etcd/server/v3@$ETCD_VERSION" >&2 \
        && go build -o "$OUT/$b.tmp" go.etcd.io/etcd/server/v3 >&2) ;;
    *) echo "build-k8s: unknown binary $b" >&2; exit 2 ;;
  esac
  mv "$OUT/$b.tmp" "$OUT/$b"
done
echo "$OUT"
