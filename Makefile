# linuxha — see README.md. `make test` needs root: it runs the namespace
# testbed tests as well as the unit tests.
GO       ?= go
PREFIX   ?= /usr/local
DESTDIR  ?=
SBINDIR  := $(DESTDIR)$(PREFIX)/sbin
MANDIR   := $(DESTDIR)$(PREFIX)/share/man
DOCDIR   := $(DESTDIR)$(PREFIX)/share/doc/linuxha
FUZZTIME ?= 60s
TESTFLAGS ?=

.PHONY: all build test test-vm faultlab faultlab-vm bench-failover unit race fuzz bench demo install man lint clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -o bin/ ./cmd/...

# Unit tests plus the namespace testbed (root).
test: lint
	LINUXHA_TESTBED=ns $(GO) test -count=1 $(TESTFLAGS) ./...

# The VM testbed (root, qemu-system-x86): real DRBD 8.4 and LVM in two
# QEMU VMs under software emulation. Images are cached in /var/cache/linuxha-vmbed.
# One package at a time (-p 1): two VM pairs under TCG on two cores starve.
test-vm:
	LINUXHA_TESTBED=vm $(GO) test -count=1 -p 1 -timeout 40m $(TESTFLAGS) ./...

# The randomized fault lab on the namespace testbed (root): STEPS steps
# from SEED (random when empty; a failure prints the seed to replay).
STEPS ?= 200
SEED  ?=
faultlab: build
	FAULTLAB_STEPS=$(STEPS) FAULTLAB_SEED=$(SEED) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 60m -v -run '^TestFaultLab$$' ./internal/faultlab/

# The fault lab on real DRBD in the VM testbed (root, qemu): VM_STEPS steps.
VM_STEPS ?= 20
faultlab-vm: build
	FAULTLAB_VM_STEPS=$(VM_STEPS) FAULTLAB_SEED=$(SEED) LINUXHA_TESTBED=vm $(GO) test -count=1 -timeout 60m -v -run '^TestFaultLabVM$$' ./internal/faultlab/

# Fail-over time against keepalived (root, keepalived installed): RUNS
# crashes each, on the namespace testbed.
RUNS ?= 20
bench-failover: build
	FAILOVER_RUNS=$(RUNS) LINUXHA_TESTBED=ns $(GO) test -count=1 -timeout 60m -run '^$$' -bench '^BenchmarkFailover$$' -benchtime 1x ./internal/faultlab/

# Unit tests only; no root needed.
unit:
	$(GO) test -count=1 ./...

race:
	LINUXHA_TESTBED=ns $(GO) test -count=1 -race ./...

# Every fuzz target for FUZZTIME each.
fuzz:
	@for t in FuzzCluster FuzzApp FuzzLocks FuzzStartup FuzzProcmon FuzzLems; do \
		echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./pkg/config || exit 1; done
	@for t in FuzzOpen FuzzRoundTrip; do \
		echo "== $$t"; $(GO) test -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZTIME) ./pkg/wire || exit 1; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# The two-node demo on this machine (root): namespace testbed, clbuild.
demo: build
	scripts/demo

install: build
	install -d $(SBINDIR) $(MANDIR)/man8 $(MANDIR)/man5 $(DOCDIR)/examples/apache $(DOCDIR)/examples/samba
	install -m 0755 bin/* $(SBINDIR)/
	install -m 0644 man/*.8 $(MANDIR)/man8/
	install -m 0644 man/*.5 $(MANDIR)/man5/
	install -m 0644 examples/*.xml $(DOCDIR)/examples/
	install -m 0644 examples/apache/* $(DOCDIR)/examples/apache/
	install -m 0644 examples/samba/* $(DOCDIR)/examples/samba/
	install -m 0644 README.md LICENSE $(DOCDIR)/
	install -d $(DESTDIR)$(PREFIX)/lib/systemd/system
	sed 's|@SBINDIR@|$(PREFIX)/sbin|' examples/systemd/linuxha-clstartup.service > $(DESTDIR)$(PREFIX)/lib/systemd/system/linuxha-clstartup.service

man:
	$(GO) run ./scripts/genman

# Formatting, vet, and man pages in step with the command definitions.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
		if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	@$(GO) run ./scripts/genman && git diff --quiet -- man || { echo "man pages are out of date: run make man"; git --no-pager diff --stat -- man; exit 1; }

clean:
	rm -rf bin .testbin
