# berth: a Kubernetes CRI runtime. See README.md.
GO        ?= go
BIN       := bin
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X github.com/berth-runtime/berth/internal/berthinfo.Version=$(VERSION)
# Debian packages berth and its tests use.
DEB_PKGS  := runc crun containernetworking-plugins busybox-static docker-registry iptables

.PHONY: all build run test unit soak e2e e2e-kubelet deps fuzz bench bench-pull clean

all: build

# Static binaries: berth-shim runs once per pod, and without libc it is smaller.
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# Install the missing system packages (as root, with apt-get).
deps:
	@missing=$$(for p in $(DEB_PKGS); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "installing: $$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi

# Start berthd in the foreground with the embedded default configuration.
run: deps build
	./$(BIN)/berthd

# Every test: the unit tests under the race detector, then everything
# (as root, the integration tests too, with a 30 s kubelet-like load
# against a berthd built with -race).
test:
	$(GO) test -race -short -count=1 ./internal/... ./cmd/...
	$(GO) test -count=1 -timeout 25m ./...

# Kubernetes on berth (root): a control plane and two berth nodes on this
# machine, the user flows and the sig-node conformance specs. The binaries
# are built from the Go module proxy into a cache dir by hack/build-k8s.sh
# (cold: about 20 minutes on 2 cores; cached: seconds).
e2e:
	BERTH_E2E_BIN=$$(hack/build-k8s.sh) $(GO) test -count=1 -timeout 60m ./test/e2e/ -v

# A standalone kubelet (built from the Go module proxy into a cache dir by
# hack/build-kubelet.sh; the first build takes 6-16 minutes) runs pods on
# berth with default settings (root).
e2e-kubelet:
	BERTH_KUBELET=$$(hack/build-kubelet.sh) $(GO) test -count=1 ./test/integration/ -run TestStandaloneKubeletRunsPods -v

# The kubelet-like load for 5 minutes (root).
soak:
	BERTH_SOAK_DURATION=5m $(GO) test -count=1 -timeout 20m ./test/integration/ -run TestKubeletLikeLoad -v

unit:
	$(GO) test -count=1 -short ./internal/... ./cmd/...

fuzz:
	$(GO) test ./internal/layerstore/ -run '^$$' -fuzz FuzzUnpack -fuzztime 60s
	$(GO) test ./internal/ocispec/ -run '^$$' -fuzz FuzzGenerate -fuzztime 60s

# berth and containerd side by side (installs Debian's containerd if missing).
bench:
	hack/bench.sh

# Pull + unpack throughput of a ~100 MB multi-layer image from a local registry.
bench-pull:
	$(GO) test ./test/integration/ -run '^$$' -bench BenchmarkPull -benchtime 5x

clean:
	rm -rf $(BIN)
