# p4qos — the commands a user and CI run. Go is the only requirement for
# build, test, demo and bench; p4 and lab need p4c / BMv2 / Mininet.
GO        ?= go
BIN       ?= bin/p4qos
P4C_BM2   ?= $(shell command -v p4c-bm2-ss 2>/dev/null || ls /opt/p4/bin/p4c-bm2-ss 2>/dev/null)
P4TEST    ?= $(shell command -v p4test 2>/dev/null || ls /opt/p4/bin/p4test 2>/dev/null)
BF_P4C    ?= $(shell command -v bf-p4c 2>/dev/null || ls /opt/p4/bin/bf-p4c 2>/dev/null)
# bf-p4c's full output goes here; `make p4` copies what p4src/build keeps.
BF_WORK   ?= $(or $(TMPDIR),/tmp)/p4qos-bf-p4c

.PHONY: all build test e2e tofino-model vet fuzz bench demo p4 p4-bmv2 p4-tofino lab lab-down clean man install

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

# Man pages (section 1, one per command, from the cobra commands via
# cobra/doc) into $(MANBUILD); not committed. SOURCE_DATE_EPOCH fixes the date.
MANBUILD ?= build/man
man: build
	rm -rf $(MANBUILD)
	$(BIN) gen-man $(MANBUILD)

# Installs the binary, the man pages and the shell completions under
# $(DESTDIR)$(PREFIX) (packagers set DESTDIR to a staging root).
PREFIX ?= /usr/local
install: build man
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/p4qos
	install -m 0644 $(MANBUILD)/*.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	$(BIN) completion bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/p4qos
	$(BIN) completion zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_p4qos
	$(BIN) completion fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/p4qos.fish

# The test command (README, CI). Tests that need p4c, BMv2, Mininet or root
# skip themselves with the reason; run `go test -v ./...` to see the skips.
test: vet
	$(GO) test -count=1 ./...
	@if [ -f tests/interop/go.mod ]; then cd tests/interop && $(GO) test -count=1 ./...; fi

# The Mininet + BMv2 end-to-end tests and the teaching labs (root, Mininet,
# BMv2, iperf3; about 4 minutes of real traffic). make test skips them.
e2e:
	P4QOS_E2E=1 $(GO) test -count=1 -v -timeout 20m ./tests/e2e/

# The packet tests on the Tofino model (root; open-p4studio's tofino-model and
# bf_switchd with its P4Runtime server under P4QOS_SDE, default
# /opt/sde/install; docs/targets.md, "Tofino model"). Without them every test
# skips, saying why. make test runs the same tests and skips the same way.
tofino-model:
	$(GO) test -count=1 -v -timeout 60m -run TestHarness ./tests/internal/tofinomodel/
	$(GO) test -count=1 -v -timeout 60m -run '/tofino-model' ./tests/bmv2/

# Short fuzzing of everything that parses outside input (CI runs this after
# make test). Seed corpora live in each package's testdata/fuzz/.
# Each target gets a number of executions (about 10 s on an idle 2-core
# machine), not a wall-clock -fuzztime: Go 1.26's fuzz coordinator can report
# "context deadline exceeded" as a failure when a duration budget ends while a
# worker is mid-input (golang/go#75804, fixed in Go 1.27), and it did so in CI
# on FuzzParseProblem with no crasher written. A count has no deadline to race.
# FUZZTIME=30s (or 1000x) overrides every target's budget for longer runs.
FUZZTIME  ?=
FUZZ_TARGETS = ./compiler:FuzzParsePolicy:20000x ./topo:FuzzParseTopology:40000x \
	./allocator:FuzzParseProblem:50000x ./allocator:FuzzDecodeJSON:100000x ./allocator:FuzzDecodeYAML:100000x \
	./tables:FuzzEntity:40000x ./internal/units:FuzzParseBitrate:200000x ./internal/units:FuzzParseBytes:200000x \
	./controlplane:FuzzDecodeWriteError:20000x ./controlplane/p4wire:FuzzUnmarshalReadResponse:40000x \
	./target/sim:FuzzWriteAndRead:10000x ./controller:FuzzApplyPolicy:1000x ./internal/thrift:FuzzReadMessage:100000x
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; rest=$${t#*:}; fn=$${rest%%:*}; n=$${rest#*:}; \
		budget=$(or $(FUZZTIME),$$n); echo "fuzz $$pkg $$fn ($$budget)"; \
		$(GO) test -run '^$$' -fuzz "^$$fn\$$" -fuzztime $$budget -fuzzminimizetime 2s $$pkg; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Runs the whole system on embedded sim switches: Go only.
demo:
	$(GO) run ./cmd/p4qos demo

# Regenerates the committed compiler outputs from the P4 sources: the BMv2
# JSON and P4Info (needs p4c-bm2-ss) and, when bf-p4c is on PATH or in
# /opt/p4/bin, the Tofino 1 and 2 outputs in p4src/build/tofino*/
# (docs/targets.md; tests/p4compile uses the same bf-p4c flags).
p4: p4-bmv2 p4-tofino

p4-bmv2:
	@test -n "$(P4C_BM2)" || { echo "p4c-bm2-ss not found (PATH or /opt/p4/bin): see docs/targets.md" >&2; exit 2; }
	$(P4C_BM2) --arch v1model --std p4-16 -I p4src/include \
		--p4runtime-files p4src/build/qos.p4info.txtpb -o p4src/build/qos.json p4src/v1model/qos.p4
	# p4c gives ipv4_lpm and ipv6_lpm their own copies of the actions of the
	# selector they share, which crashes BMv2 (internal/bmv2json explains).
	$(GO) run ./internal/bmv2json/cmd/bmv2fix p4src/build/qos.json

# --p4runtime-force-std-externs: standard P4Runtime meters, counters and
# action profiles in the P4Info, as Stratum and PI serve them (docs/targets.md).
# -g makes bf-p4c write pipe/logs/resources.json.
BF_P4C_FLAGS = --std p4-16 -g --p4runtime-force-std-externs

# bf-p4c up to p4lang/p4c#5753 (v1.2.5.16 included) loses the match
# registers of parser selects on Tofino: every transition of such a state is
# emitted as an unconditional "*" and the first one is always taken. This
# awk program fails on a .bfa whose parser has a state with several
# transitions and no "match:" line; its tofino.bin and context.json are then
# not kept (docs/targets.md, "Compiler defect").
BFA_PARSER_CHECK = '/^parser /{p=1;next} /^[^ ]/{if(p&&n>1&&!m)b++;p=0;n=0;m=0;next} \
	p&&/^    [^ ].*:$$/{if(n>1&&!m)b++;n=0;m=0;next} p&&/^      match:/{m=1} p&&/^      [^ ].*:$$/{n++} \
	END{if(p&&n>1&&!m)b++;exit b>0}'

# $(call bf_p4c,target,arch): compile for one chip and keep the P4Info, the
# BF-RT schema and the resource summaries; tofino.bin / tofino2.bin and
# context.json too when the parser check passes and the binary is under 4 MB.
define bf_p4c
	rm -rf $(BF_WORK)/$(1) && mkdir -p $(BF_WORK)/$(1) p4src/build/$(1)
	$(BF_P4C) --target $(1) --arch $(2) $(BF_P4C_FLAGS) \
		--p4runtime-files $(BF_WORK)/$(1)/qos.p4info.txtpb --bf-rt-schema $(BF_WORK)/$(1)/bf-rt.json \
		-o $(BF_WORK)/$(1) p4src/tna/qos.p4
	cp $(BF_WORK)/$(1)/qos.p4info.txtpb $(BF_WORK)/$(1)/bf-rt.json p4src/build/$(1)/
	cp $(BF_WORK)/$(1)/pipe/logs/resources.json $(BF_WORK)/$(1)/pipe/logs/mau.resources.log \
		$(BF_WORK)/$(1)/pipe/logs/metrics.json p4src/build/$(1)/
	@rm -f p4src/build/$(1)/context.json p4src/build/$(1)/$(1).bin; \
	if ! awk $(BFA_PARSER_CHECK) $(BF_WORK)/$(1)/pipe/qos.bfa; then \
		echo "$(1): parser selects lost their match registers (p4lang/p4c#5753): context.json and $(1).bin not kept"; \
	elif [ $$(stat -c %s $(BF_WORK)/$(1)/pipe/$(1).bin) -ge 4000000 ]; then \
		echo "$(1): $(1).bin is 4 MB or more: not kept (left in $(BF_WORK)/$(1)/pipe)"; \
	else cp $(BF_WORK)/$(1)/pipe/context.json $(BF_WORK)/$(1)/pipe/$(1).bin p4src/build/$(1)/; fi
endef

p4-tofino:
ifeq ($(BF_P4C),)
	@echo "bf-p4c not found (PATH or /opt/p4/bin): p4src/build/tofino* left as they are; see docs/targets.md"
else
	$(call bf_p4c,tofino,tna)
	$(call bf_p4c,tofino2,t2na)
endif

lab: build
	$(BIN) lab up -t topo/examples/fabric.yaml

lab-down: build
	$(BIN) lab down -t topo/examples/fabric.yaml

clean:
	rm -rf bin build
