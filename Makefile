# linuxha — see README.md. `make test` needs root: it runs the namespace
# testbed tests as well as the unit tests. `make demo`, `make test` and
# `make test-vm` first install the Debian packages they need
# (scripts/deps, from the one list in scripts/packages).
# Go is taken from PATH, else from /usr/local/go (where Go's tarball and
# this project's CI machines put it).
GO       ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  := $(DESTDIR)$(PREFIX)/sbin
MANDIR   := $(DESTDIR)$(PREFIX)/share/man
DOCDIR   := $(DESTDIR)$(PREFIX)/share/doc/linuxha
UNITDIR  := $(DESTDIR)$(PREFIX)/lib/systemd/system
UNITS    := linuxha-cldaemon.service linuxha-clstartup.service linuxha-clmember.service
ROTATEDIR := $(DESTDIR)/etc/logrotate.d
FUZZTIME ?= 60s
TESTFLAGS ?=
VERSION  ?= $(shell scripts/version)
LDFLAGS  := -X github.com/linuxha-ng/linuxha/pkg/version.Version=$(VERSION) $(EXTRA_LDFLAGS)
# Static by default (one binary runs on any node); mkdeb builds Debian's
# way: dynamically linked, position independent, stripped.
CGO      ?= 0
BUILDFLAGS ?=
# urfave/cli's markdown and man page writers are not used (man/ has its
# own): without them each daemon is 0.3 MiB smaller in memory.
TAGS     := urfave_cli_no_docs
COMMANDS := $(notdir $(wildcard cmd/*))
BIN      ?= bin
DEPS     := scripts/deps

.PHONY: all build test test-vm faultlab faultlab-etcd bench-etcd faultlab-vm bench-failover bench-growth bench-growth-vm bench-footprint bench-soak unit race fuzz bench demo demo-drbd install uninstall deb man lint clean

all: build

build:
	CGO_ENABLED=$(CGO) $(GO) build -trimpath -tags '$(TAGS)' $(BUILDFLAGS) -ldflags '$(LDFLAGS)' -o $(BIN)/ ./cmd/...

# Unit tests under the race detector (the testbed tests skip without
# LINUXHA_TESTBED), then unit tests plus the namespace testbed (root). The packaging tests
# compile two whole sets of binaries (make install's and the .deb's): they
# run after the others, so that their compiling does not slow the testbed's
# timing-sensitive fail-over tests.
test:
	$(DEPS) test
	$(MAKE) lint
	CGO_ENABLED=1 $(GO) test -count=1 -race ./...
	LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 30m $(TESTFLAGS) $$($(GO) list ./... | grep -v '/internal/packaging$$')
	LINUXHA_TESTBED=ns $(GO) test -count=1 $(TESTFLAGS) ./internal/packaging

# The VM testbed (root, qemu-system-x86): real DRBD 8.4 and LVM in two
# QEMU VMs under software emulation. Images are cached in /var/cache/linuxha-vmbed.
# One package at a time (-p 1): two VM pairs under TCG on two cores starve.
test-vm:
	$(DEPS) vm
	LINUXHA_TESTBED=vm $(GO) test -count=1 -p 1 -timeout 40m $(TESTFLAGS) ./...

# The randomized fault lab on the namespace testbed (root): STEPS steps
# from SEED (random when empty; a failure prints the seed to replay).
STEPS ?= 200
SEED  ?=
faultlab: build
	$(DEPS) test
	FAULTLAB_STEPS=$(STEPS) FAULTLAB_SEED=$(SEED) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 60m -v -run '^TestFaultLab$$' ./internal/faultlab/

# The fault lab on real DRBD in the VM testbed (root, qemu): VM_STEPS steps.
VM_STEPS ?= 20
# The etcd mode's lab (issue 23): ETCD_NODES nodes (3 or 5) in the
# namespace testbed, ETCD_STEPS random faults.
ETCD_STEPS ?= 200
ETCD_NODES ?= 3
faultlab-etcd: build
	$(DEPS) test
	FAULTLAB_ETCD_STEPS=$(ETCD_STEPS) FAULTLAB_ETCD_NODES=$(ETCD_NODES) FAULTLAB_SEED=$(SEED) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 90m -v -run '^TestFaultLabEtcd$$' ./internal/faultlab/

# The etcd mode's fail-over time on a node crash, ETCD_RUNS crashes per
# profile (issue 23).
ETCD_RUNS ?= 10
bench-etcd: build
	$(DEPS) test
	ETCD_RUNS=$(ETCD_RUNS) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 60m -run '^$$' -bench '^BenchmarkEtcdFailover$$' -benchtime 1x ./internal/faultlab/

faultlab-vm: build
	$(DEPS) vm
	FAULTLAB_VM_STEPS=$(VM_STEPS) FAULTLAB_SEED=$(SEED) LINUXHA_TESTBED=vm $(GO) test -count=1 -timeout 60m -v -run '^TestFaultLabVM$$' ./internal/faultlab/

# Fail-over time against keepalived (root, keepalived installed): RUNS
# crashes each, on the namespace testbed.
RUNS ?= 20
bench-failover: build
	$(DEPS) test bench
	FAILOVER_RUNS=$(RUNS) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 60m -run '^$$' -bench '^BenchmarkFailover$$' -benchtime 1x ./internal/faultlab/

# Takeover of an application with 1, 3, 10 and 30 file systems on real
# DRBD in the VM testbed (root, qemu): GROWTH_VM_RUNS crashes each; only the
# ratios are figures (software emulation). GROWTH_VM_SIZES picks sizes.
GROWTH_VM_RUNS ?= 3
GROWTH_VM_SIZES ?= 1,3,10,30
bench-growth-vm: build
	$(DEPS) vm
	GROWTH_VM_SIZES=$(GROWTH_VM_SIZES) GROWTH_VM_RUNS=$(GROWTH_VM_RUNS) LINUXHA_TESTBED=vm $(GO) test -count=1 -timeout 120m -run '^$$' -bench '^BenchmarkGrowthVM$$' -benchtime 1x ./internal/faultlab/

# Takeover of 1, 10 and 30 applications after a node crash (root):
# GROWTH_RUNS crashes each, on the namespace testbed; GROWTH_APPS picks
# the sizes (the first is the ratios' base).
GROWTH_RUNS ?= 5
GROWTH_APPS ?= 1,10,30
bench-growth: build
	$(DEPS) test
	GROWTH_RUNS=$(GROWTH_RUNS) GROWTH_APPS=$(GROWTH_APPS) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 60m -run '^$$' -bench '^BenchmarkGrowth$$' -benchtime 1x ./internal/faultlab/

# An idle cluster's daemons: memory, CPU and clstat's answer (root).
bench-footprint: build
	$(DEPS) test
	LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 30m -run '^$$' -bench '^BenchmarkFootprint$$' -benchtime 1x ./internal/faultlab/

# The fast timing profile under load (root): MINUTES minutes with both
# nodes' cores saturated by stress-ng; counts false deaths (target 0).
MINUTES ?= 10
bench-soak: build
	$(DEPS) test bench
	SOAK_MINUTES=$(MINUTES) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout $$(( $(MINUTES) + 20 ))m -run '^$$' -bench '^BenchmarkSoak$$' -benchtime 1x ./internal/faultlab/

# Unit tests only; no root needed.
unit:
	$(GO) test -count=1 ./...

race:
	LINUXHA_TESTBED=ns $(GO) test -count=1 -race ./...

# Every fuzz target for FUZZTIME each: a duration (60s) or a count of
# inputs (10000x). CI gives a count: with a duration, Go 1.26's fuzzing
# coordinator can report its own deadline as a failure under load
# ("context deadline exceeded", no crasher; golang/go#75804, fixed in 1.27).
fuzz:
	@for t in FuzzCluster FuzzApp FuzzLocks FuzzStartup FuzzProcmon FuzzLems; do \
		echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./pkg/config || exit 1; done
	@for t in FuzzOpen FuzzRoundTrip; do \
		echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./pkg/wire || exit 1; done
	@echo "== FuzzEngine"; $(GO) test -run '^$$' -fuzz '^FuzzEngine$$' -fuzztime $(FUZZTIME) ./lems

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The two-node demo on this machine (root): namespace testbed, the apache
# application on filesync, failing over with its data.
demo: build
	$(DEPS) demo
	scripts/demo

# The same story on real DRBD 8.4 and LVM in the VM testbed (slow: QEMU
# software emulation).
demo-drbd: build
	$(DEPS) vm demo
	scripts/demo --drbd

# Installs what `make build` built, building it first when nothing is
# built and Go is found (root's PATH may have no Go: then run `make build`
# as yourself first, and `sudo make install` copies it without rebuilding).
install:
	@[ -x $(BIN)/cldaemon ] || [ ! -x "$(GO)" ] || $(MAKE) --no-print-directory build
	@[ -x $(BIN)/cldaemon ] || { echo "make install: nothing built and no Go to build with; run 'make build' first (as yourself, with Go on PATH)" >&2; exit 1; }
	install -d $(SBINDIR) $(MANDIR)/man8 $(MANDIR)/man5 $(DOCDIR) $(UNITDIR)
	install -m 0755 $(addprefix $(BIN)/,$(COMMANDS)) $(SBINDIR)/
	install -m 0644 man/*.8 $(MANDIR)/man8/
	install -m 0644 man/*.5 $(MANDIR)/man5/
	install -m 0644 README.md LICENSE $(DOCDIR)/
	cd examples && find . -type d -exec install -d '$(DOCDIR)/examples/{}' ';'
	cd examples && find . -type f ! -perm -u+x -exec install -m 0644 '{}' '$(DOCDIR)/examples/{}' ';'
	cd examples && find . -type f -perm -u+x -exec install -m 0755 '{}' '$(DOCDIR)/examples/{}' ';'
	for u in $(UNITS); do \
		sed 's|@SBINDIR@|$(PREFIX)/sbin|' examples/systemd/$$u > $(UNITDIR)/$$u && chmod 0644 $(UNITDIR)/$$u && \
		cp $(UNITDIR)/$$u $(DOCDIR)/examples/systemd/$$u || exit 1; done
	install -d $(ROTATEDIR)
	install -m 0644 examples/logrotate/linuxha $(ROTATEDIR)/linuxha

# Removes what install installed (configuration in /etc/cluster and logs
# stay).
uninstall:
	rm -f $(addprefix $(SBINDIR)/,$(COMMANDS))
	rm -f $(addprefix $(MANDIR)/man8/,$(notdir $(wildcard man/*.8))) $(addprefix $(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -rf $(DOCDIR)
	rm -f $(addprefix $(UNITDIR)/,$(UNITS))
	rm -f $(ROTATEDIR)/linuxha

# The Debian package, linuxha_<version>_amd64.deb, from the install tree.
deb: build
	scripts/mkdeb .

man:
	$(GO) run ./scripts/genman

# Formatting, vet, man pages in step with the command definitions and
# clean under groff's warnings, and the unit files.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) run ./scripts/genman && git diff --quiet -- man || { echo "man pages are out of date: run make man"; git --no-pager diff --stat -- man; exit 1; }
	scripts/manlint man/*.[58]
	scripts/unitlint $(addprefix examples/systemd/,$(UNITS))

clean:
	rm -rf bin .testbin linuxha_*.deb
