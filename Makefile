# p4qos — the commands a user and CI run. Go is the only requirement for
# build, test, demo and bench; p4 and lab need p4c / BMv2 / Mininet.
GO        ?= go
BIN       ?= bin/p4qos
FUZZTIME  ?= 10s
P4C_BM2   ?= $(shell command -v p4c-bm2-ss 2>/dev/null || ls /opt/p4/bin/p4c-bm2-ss 2>/dev/null)
P4TEST    ?= $(shell command -v p4test 2>/dev/null || ls /opt/p4/bin/p4test 2>/dev/null)

.PHONY: all build test e2e vet fuzz bench demo p4 lab lab-down clean

all: build

# -buildvcs=auto overrides a GOFLAGS=-buildvcs=false so that p4qos version
# can report the revision (internal/buildinfo). CGO_ENABLED=0: p4qos needs no
# cgo, and a cgo binary reserves a 64 MB malloc arena per thread, which under
# an address-space limit (ulimit -v) scales with the cores, not the input
# (cmd/p4qos/main.go; tests/hostile builds the same way).
build:
	CGO_ENABLED=0 $(GO) build -buildvcs=auto -o $(BIN) ./cmd/p4qos

vet:
	$(GO) vet ./...

# The test command (README, CI). Tests that need p4c, BMv2, Mininet or root
# skip themselves with the reason; run `go test -v ./...` to see the skips.
test: vet
	$(GO) test -count=1 ./...
	@if [ -f tests/interop/go.mod ]; then cd tests/interop && $(GO) test -count=1 ./...; fi

# The Mininet + BMv2 end-to-end tests and the teaching labs (root, Mininet,
# BMv2, iperf3; about 4 minutes of real traffic). make test skips them.
e2e:
	P4QOS_E2E=1 $(GO) test -count=1 -v -timeout 20m ./tests/e2e/

# Short fuzzing of everything that parses outside input (CI runs this after
# make test). Seed corpora live in each package's testdata/fuzz/.
FUZZ_TARGETS = ./compiler:FuzzParsePolicy ./topo:FuzzParseTopology \
	./allocator:FuzzParseProblem ./tables:FuzzEntity ./internal/units:FuzzParseBitrate ./internal/units:FuzzParseBytes \
	./controlplane:FuzzDecodeWriteError ./target/sim:FuzzWriteAndRead \
	./controller:FuzzApplyPolicy ./internal/thrift:FuzzReadMessage ./target/tofino:FuzzUnmarshalStratumConfig
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; fn=$${t##*:}; \
		echo "fuzz $$pkg $$fn ($(FUZZTIME))"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Runs the whole system on embedded sim switches: Go only.
demo:
	$(GO) run ./cmd/p4qos demo

# Regenerates the committed BMv2 JSON and P4Info from the P4 sources (needs p4c).
p4:
	@test -n "$(P4C_BM2)" || { echo "p4c-bm2-ss not found (PATH or /opt/p4/bin): see docs/targets.md" >&2; exit 2; }
	$(P4C_BM2) --arch v1model --std p4-16 -I p4src/include \
		--p4runtime-files p4src/build/qos.p4info.txtpb -o p4src/build/qos.json p4src/v1model/qos.p4
	# p4c gives ipv4_lpm and ipv6_lpm their own copies of the actions of the
	# selector they share, which crashes BMv2 (internal/bmv2json explains).
	$(GO) run ./internal/bmv2json/cmd/bmv2fix p4src/build/qos.json

lab: build
	$(BIN) lab up -t topo/examples/fabric.yaml

lab-down: build
	$(BIN) lab down -t topo/examples/fabric.yaml

clean:
	rm -rf bin
