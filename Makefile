# carnet: one plain Makefile.
#
#   make            build bin/carnetd and bin/carnet (no root: says to run
#                   `make deps` if a package is missing); fails, naming the
#                   call, if a layer calls one above it or files call one
#                   another in a loop (the check of `make layers`, rerun
#                   only when an object changed)
#   make layers     that check, always, saying what it looked at
#   make test       install missing packages, build, run every test, then run
#                   them all again under AddressSanitizer + UBSan (make check)
#   make check      the sanitizer run alone
#   make demo       the multi-actor experiment on a temporary broker
#                   (DEMO_FLAGS="--users 30 --seed 1 --duration 40")
#   make bench      carnet against raw ZeroMQ and NATS: bench/RESULTS.md
#                   (QUICK=1: under a minute; ONLY=throughput,latency,...)
#   make torture    kill -9 x50 over 1 M records, 100 simulated power losses,
#                   long fuzzing: docs/RELIABILITY.md
#   make fuzz       each libFuzzer harness for FUZZ_SECONDS (60)
#   make deps       apt-get install the Debian packages carnet needs
#   make clean
#
# Top-level targets call `make deps` and then re-enter make, so that the
# pkg-config flags are read after the packages exist.

PKGS := libzmq libsodium lmdb msgpack jansson
DEBS := libzmq3-dev libsodium-dev liblmdb-dev libmsgpack-dev libcmocka-dev \
	libjansson-dev libcsv-dev uthash-dev lmdb-utils pkg-config jq curl \
	clang libclang-rt-14-dev libmicrohttpd-dev libnats-dev
# the dashboard's browser tests: Debian's Chromium driven by playwright-core
# (tests/web, from npm); Node.js from Debian unless one is there already
WEB_DEBS := chromium
BENCH_DEBS := linux-perf

O ?= build
BIN ?= bin
SAN ?=
SANITIZE := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
SANFLAGS := $(if $(SAN),$(SANITIZE))

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 -Wall -Wextra -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
	-Werror -D_POSIX_C_SOURCE=200809L -MMD -MP \
	$(SANFLAGS) $(PKG_CFLAGS) $(DEFS)
LDFLAGS += $(SANFLAGS)
LDLIBS := $(PKG_LIBS) -lcsv -lm

# The layers, each an archive linked only by what is above it, listed from
# the top down (the link order: an archive may use only those after it).
# A program's link alone would miss a call that points up from an object
# the program does not pull in, or into an object it already pulled in:
# the layer check below, part of every build, links each archive whole.
LAYERS := client fhir store policy schemas common
layer_libs = $(foreach l,$(1),$(O)/lib$(l).a)
# what each program links: its own objects, then these layers
BROKER_LAYERS := store policy schemas common
CLI_LAYERS := dashboard client fhir store policy schemas common
AGENT_LAYERS := client fhir policy schemas common
ALL_LAYERS := dashboard $(LAYERS)

BROKER_SRCS := $(wildcard broker/*.c)
CLI_SRCS := $(wildcard cli/*.c)
MHD_LIBS := -lmicrohttpd
AGENTS := insurer pharmacy lab device
APPS := budget emergency carepath chronic
AGENT_PROGS := $(foreach a,$(AGENTS),$(if $(wildcard agents/$(a).c),$(BIN)/carnet-$(a)))
APP_PROGS := $(foreach a,$(APPS),$(if $(wildcard agents/apps/$(a).c),$(BIN)/carnet-app-$(a)))
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS := $(TEST_SRCS:tests/%.c=$(O)/tests/%)

PROGS := $(BIN)/carnetd $(BIN)/carnet $(AGENT_PROGS) $(APP_PROGS) \
	$(BIN)/carnet-synth

# keep the test objects make would see as intermediate
.SECONDARY: $(TEST_SRCS:tests/%.c=$(O)/tests/%.o) \
	$(patsubst %.c,$(O)/%.o,$(wildcard agents/*.c agents/apps/*.c demo/synth.c))
.PHONY: no-root wset-calls have-deps layers all build test check demo deps web-deps bench-compile nats-server clean unit integration e2e _test \
	fuzz fuzz-build fuzz-smoke torture bench bench-deps bench-build

# A plain make builds, never installs (no root needed): if a package is
# missing it says which target installs it.
all: have-deps
	@$(MAKE) --no-print-directory build

have-deps:
	@pkg-config --exists $(PKGS) libmicrohttpd 2>/dev/null && \
	    [ -e /usr/include/csv.h ] && [ -e /usr/include/nats/nats.h ] || { \
	    echo "carnet: build packages are missing: run 'make deps' as root" \
	        "(apt-get install), or 'make demo' / 'make test', which" \
	        "install what they need" >&2; exit 1; }

build: $(PROGS)

# The layer check, in every build before any program is linked (each
# program's rule waits for it, order-only): each layer's archive, taken
# whole, links against the layers below it alone and includes no header
# from above (tests/layers.sh), for the CLI's stack and the broker's; and
# within each directory (layers and programs' own), files call one
# another without loops (tests/nocycles.sh).  $(O)/layers.ok records a
# pass: a plain make runs the check again only when an object changed
# (about 2 s), and stops with the script's message when it fails.
NOCYCLES_DIRS := $(ALL_LAYERS) broker cli agents agents/apps
NOCYCLES_OBJS := $(patsubst %.c,$(O)/%.o,$(wildcard $(NOCYCLES_DIRS:%=%/*.c)))
define check_layers
	@LDFLAGS_LAYERS="$(LDFLAGS)" bash tests/layers.sh "$(CC)" $(O) \
		"$(LDLIBS) $(MHD_LIBS) -lnats" $(ALL_LAYERS) $(1)
	@LDFLAGS_LAYERS="$(LDFLAGS)" bash tests/layers.sh "$(CC)" $(O) \
		"$(LDLIBS)" broker $(BROKER_LAYERS) $(1)
	@set -e; $(foreach d,$(NOCYCLES_DIRS),bash tests/nocycles.sh \
		$(patsubst %.c,$(O)/%.o,$(wildcard $(d)/*.c)) $(1);)
endef
LAYERS_OK := $(O)/layers.ok
$(LAYERS_OK): $(call layer_libs,$(ALL_LAYERS)) $(O)/libbroker.a \
    $(NOCYCLES_OBJS) tests/layers.sh tests/nocycles.sh
	@echo "  CHECK layers"
	$(call check_layers,>/dev/null)
	@touch $@

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC  $<"
	@$(CC) $(CFLAGS) -c -o $@ $<

# one archive per layer directory
define layer_rule
$(O)/lib$(1).a: $(patsubst %.c,$(O)/%.o,$(wildcard $(1)/*.c))
	@rm -f $$@
	$(AR) rcs $$@ $$^
endef
$(foreach l,$(ALL_LAYERS),$(eval $(call layer_rule,$(l))))

# the broker's files but its main, as an archive the unit tests link too
$(O)/libbroker.a: $(patsubst %.c,$(O)/%.o,$(filter-out broker/carnetd.c,$(BROKER_SRCS)))
	@rm -f $@
	$(AR) rcs $@ $^

$(BIN)/carnetd: $(O)/broker/carnetd.o $(O)/libbroker.a $(call layer_libs,$(BROKER_LAYERS)) | $(LAYERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/carnet: $(CLI_SRCS:%.c=$(O)/%.o) $(call layer_libs,$(CLI_LAYERS)) | $(LAYERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MHD_LIBS)

# the page's files are assembled into carnet (.incbin): rebuild on change
$(O)/dashboard/assets.o: $(wildcard dashboard/web/*.* dashboard/web/vendor/*)

$(BIN)/carnet-synth: $(O)/demo/synth.o $(call layer_libs,$(AGENT_LAYERS)) | $(LAYERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/carnet-app-%: $(O)/agents/apps/%.o $(O)/agents/apps/appkit.o $(call layer_libs,$(AGENT_LAYERS)) | $(LAYERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BIN)/carnet-%: $(O)/agents/%.o $(O)/agents/holder_agent.o $(call layer_libs,$(AGENT_LAYERS)) | $(LAYERS_OK)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The layer check (see $(LAYERS_OK) above), run whatever the stamp says,
# with what each step looked at (part of make test).
layers: $(call layer_libs,$(ALL_LAYERS)) $(O)/libbroker.a $(NOCYCLES_OBJS)
	$(call check_layers)
	@touch $(LAYERS_OK)

# A plain make installs nothing: its dry run holds no apt-get, where make
# deps's does (part of make test).
no-root:
	@$(MAKE) --no-print-directory -n deps | grep -q 'apt-get update' || \
	    { echo "no-root: cannot see make deps's apt-get" >&2; exit 1; }
	@! $(MAKE) --no-print-directory -n all | grep -q 'apt-get update' || \
	    { echo "no-root: a plain make would run apt-get" >&2; exit 1; }
	@echo "no-root: a plain make installs nothing"

# Every write of the store goes through store/wset.c, so that a write set
# holds every change a transaction makes; the one exception, a drop at
# open before any sink can be set, says so on its line (part of make test).
wset-calls:
	@bad=$$(grep -nE '\bmdb_(put|del|cursor_put|cursor_del|drop)\(' \
	    $(filter-out store/wset.c,$(wildcard store/*.c)) | \
	    grep -v 'wset: at open'); if [ -n "$$bad" ]; then \
	    echo "wset-calls: LMDB writes around store/wset.c (use st_mdb_*):" >&2; \
	    echo "$$bad" >&2; exit 1; fi; echo "wset-calls: every store write is captured"

# tests may reach into any layer, and the broker's own files
$(O)/tests/test_%: $(O)/tests/test_%.o $(O)/libbroker.a $(call layer_libs,$(ALL_LAYERS))
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) $(MHD_LIBS) -lcmocka

# The power-loss shim (LD_PRELOAD into carnetd; no sanitizer: it only
# wraps libc calls) and pl-undo, which drops what a killed process had not
# synced (tests/powerloss/); test_crash runs carnetd under them.
PL_CFLAGS := $(filter-out $(SANFLAGS),$(CFLAGS))
$(O)/tests/plshim.so: tests/powerloss/plshim.c tests/powerloss/plshim.h
	@mkdir -p $(dir $@)
	$(CC) $(PL_CFLAGS) -fPIC -shared -o $@ $< -ldl -lpthread
$(O)/tests/pl-undo: tests/powerloss/plundo.c tests/powerloss/plshim.h
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $<
$(O)/tests/test_crash: | $(O)/tests/plshim.so $(O)/tests/pl-undo

# The suite: unit tests (cmocka), integration tests (real processes), the
# shared end-to-end check of the CLI contract.
unit: $(TESTS) $(PROGS)
	@set -e; for t in $(TESTS); do echo "== $$t"; \
		CARNET_BIN=$(abspath $(BIN)) $$t; done

integration: build $(O)/tests/plshim.so $(O)/tests/pl-undo
	@set -e; for t in tests/it_*.sh; do [ -e "$$t" ] || continue; \
		echo "== $$t"; CARNET_BIN=$(abspath $(BIN)) \
		CARNET_TEST_BUILD=$(abspath $(O)) bash $$t; done

E2E := $(wildcard ../shared/checks/e2e-cli.sh)
e2e: build
	@$(if $(E2E),echo "== $(E2E)"; CARNET_BIN=$(abspath $(BIN)) bash $(E2E),echo "no shared e2e check here")

# Build in parallel, then run the phases one after the other (-j2 safe).
_test: build $(TESTS)
	@$(MAKE) --no-print-directory layers no-root wset-calls
	@$(MAKE) --no-print-directory unit
	@$(MAKE) --no-print-directory integration
	@$(MAKE) --no-print-directory e2e

test: deps web-deps
	@$(MAKE) --no-print-directory _test
	@$(MAKE) --no-print-directory bench-compile
	@$(MAKE) --no-print-directory check-inner
	@$(MAKE) --no-print-directory fuzz-smoke

check: deps web-deps
	@$(MAKE) --no-print-directory check-inner

check-inner:
	@$(MAKE) --no-print-directory SAN=1 O=build/san BIN=build/san/bin _test

demo: deps
	@$(MAKE) --no-print-directory build
	@CARNET_BIN=$(abspath $(BIN)) bash demo/experiment $(DEMO_FLAGS)

# The long reliability run: 50 kills over 1 M records, 5 min per fuzzer.
torture: deps
	@$(MAKE) --no-print-directory build $(O)/tests/test_crash
	@bash tests/torture.sh

# libFuzzer harnesses (tests/fuzz/), built with clang under ASan + UBSan.
FUZZERS := record json token frame fhir csv
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer
FUZZ_LINK := -fsanitize=fuzzer,address,undefined

fuzz: deps
	@$(MAKE) --no-print-directory CC=clang O=build/fuzz SANFLAGS="$(FUZZ_SAN)" fuzz-build
	@bash tests/fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZERS)

# A few seconds each: part of make test.
fuzz-smoke:
	@$(MAKE) --no-print-directory CC=clang O=build/fuzz SANFLAGS="$(FUZZ_SAN)" fuzz-build
	@bash tests/fuzz/run.sh build/fuzz 4 $(FUZZERS)

fuzz-build: $(FUZZERS:%=$(O)/fuzz/fuzz_%)

$(O)/fuzz/fuzz_%: $(O)/tests/fuzz/fuzz_%.o $(call layer_libs,$(AGENT_LAYERS))
	@mkdir -p $(dir $@)
	$(CC) $(FUZZ_LINK) -o $@ $^ $(LDLIBS)

# apt-get install what of $(1) is missing
define install
	@missing=; for p in $(1); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	fi
endef

deps:
	$(call install,$(DEBS))

web-deps:
	$(call install,$(WEB_DEBS))
	@command -v npm >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm; }
	@$(MAKE) --no-print-directory tests/web/node_modules/.installed

# npm ci again whenever the lock file changes
tests/web/node_modules/.installed: tests/web/package-lock.json
	cd tests/web && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

# Debian's nats-server package starts a system service on 127.0.0.1:4222:
# the benchmark starts its own, so the service is stopped and disabled.
bench-deps:
	$(call install,$(BENCH_DEBS))
	@if command -v systemctl >/dev/null && systemctl is-enabled nats-server \
	    >/dev/null 2>&1; then echo "stopping the nats-server service (the \
	benchmark runs its own)"; systemctl disable --now nats-server \
	    >/dev/null 2>&1 || true; fi

# nats-server 2.10 from Debian 13's package, unpacked under build/ (the
# system's apt sources stay as they are): Debian 12's 2.9.10 has no
# sync_interval and fails JetStream's fencing under concurrency.
NATS_DIR := build/nats-server
NATS_SERVER := $(NATS_DIR)/usr/sbin/nats-server
nats-server: $(NATS_SERVER)
$(NATS_SERVER): tools/nats-server.sh
	@sh tools/nats-server.sh $(NATS_DIR)
	@touch $@

# Benchmarks (bench/): a build of its own with the switches that turn
# guarantees off one at a time (CARNET_BENCH), never in bin/.
bench: deps
	@$(MAKE) --no-print-directory bench-deps
	@$(MAKE) --no-print-directory O=build/bench BIN=build/bench/bin \
		DEFS=-DCARNET_BENCH bench-build
	@$(MAKE) --no-print-directory nats-server
	@PATH="$(abspath $(dir $(NATS_SERVER))):$$PATH" \
	    build/bench/bin/carnet-bench $(if $(filter-out 0,$(QUICK)),--quick \
		--out build/bench) $(if $(ONLY),--only $(ONLY))

bench-build: $(BIN)/carnetd $(BIN)/carnet $(BIN)/carnet-bench

# make test compiles and links the benchmark driver too (normal flags, not
# in bin/), so that it keeps building; running it is make bench's job
bench-compile: $(O)/bench-check/carnet-bench

BENCH_LIBS := $(call layer_libs,client fhir store policy schemas common)
$(O)/bench-check/carnet-bench: $(patsubst %.c,$(O)/%.o,$(wildcard bench/*.c)) $(BENCH_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lnats

$(BIN)/carnet-bench: $(patsubst %.c,$(O)/%.o,$(wildcard bench/*.c)) $(BENCH_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lnats

clean:
	rm -rf build bin

-include $(shell find $(O) -name '*.d' 2>/dev/null)
