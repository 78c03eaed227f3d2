# Evergreen: the two set-up commands are `make demo` and `make test`.
# Each installs what is missing (Debian packages), builds, and runs.

SHELL := /bin/bash
DEBIAN_PACKAGES := libev-dev libc-ares-dev libidn2-dev pkg-config dnsmasq-base dnsperf iproute2 util-linux mount
SWIFT ?= swift
SWIFT_BUILD_FLAGS ?=
DNSWORLD := scripts/dnsworld

.PHONY: all deps build release test demo bench clean consumer-check

all: build

## deps: install the Debian packages the build, tests and demo need (only those missing)
deps:
	@missing=""; for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

build: deps
	$(SWIFT) build $(SWIFT_BUILD_FLAGS)

# Release builds link the Swift runtime statically, as Swift servers ship:
# calls into it skip the PLT and its thread-locals need no __tls_get_addr
# (about 4% of a hub wait). The SwiftNIO reference is built the same way.
RELEASE_FLAGS ?= -c release --static-swift-stdlib

release: deps
	$(SWIFT) build $(RELEASE_FLAGS) --product evergreen

## test: every test; resolver and socket tests run inside the hermetic DNS world
test: deps
	$(SWIFT) build --build-tests $(SWIFT_BUILD_FLAGS)
	@$(DNSWORLD) check || { echo "make test needs root (for the private network namespace); see above"; exit 1; }
	$(DNSWORLD) run --blackhole-ipv6 2001:db8:dead::/48 -- $(SWIFT) test --skip-build $(SWIFT_BUILD_FLAGS)
	bash Tests/dnsworld-selftest.sh

## demo: resolve names with every backend, then an echo server and 1,000 client tasks (loopback only)
demo: release
	@$(DNSWORLD) check || { echo "make demo needs root (for the private network namespace); see above"; exit 1; }
	$(DNSWORLD) run -- bash scripts/demo.sh

## bench: every benchmark against its reference, in one run; writes Benchmarks/out/
bench: release
	bash Benchmarks/setup.sh
	Benchmarks/.venv/bin/python Benchmarks/bench.py --no-build

clean:
	rm -rf .build Benchmarks/out

## consumer-check: build and run Examples/Consumer, a separate package that depends on Evergreen by path, as users do
consumer-check: deps
	cd Examples/Consumer && $(SWIFT) build && ./.build/debug/consumer

# --- Reliability under load, faults and bad input (issue 7) -----------------

.PHONY: test-sanitizers soak fuzz ci

## test-sanitizers: every test under ThreadSanitizer, then AddressSanitizer+LeakSanitizer (scratch paths .build-tsan, .build-asan; SANITIZERS=tsan|asan for one)
SANITIZERS ?= all
test-sanitizers: deps
	@$(DNSWORLD) check >/dev/null || { echo "make test-sanitizers needs root (for the private network namespace); see scripts/dnsworld check"; exit 1; }
	bash scripts/sanitizers.sh $(SANITIZERS)

## ci: what .ci/run runs on a clean clone: `make test`, then every test under ThreadSanitizer and
## under AddressSanitizer but those in CI_TSAN_SKIP / CI_ASAN_SKIP (regexes for swift test --skip;
## .ci/run says why each is left out)
CI_SANITIZER_SKIP ?= aSilentFirstServerFallsThroughToTheNextUnlessPrimary
CI_TSAN_SKIP ?= $(CI_SANITIZER_SKIP)
CI_ASAN_SKIP ?= $(CI_SANITIZER_SKIP)|aConnectTo.*OutOfDescriptorsReportsEMFILE
ci: test
	@$(DNSWORLD) check >/dev/null || { echo "make ci needs root (for the private network namespace); see scripts/dnsworld check"; exit 1; }
	bash scripts/sanitizers.sh tsan -- --skip '$(CI_TSAN_SKIP)'
	bash scripts/sanitizers.sh asan -- --skip '$(CI_ASAN_SKIP)'

## soak: 1,000,000 wait round trips, 200,000 lookups per backend, 100,000 connections; memory, descriptors and watchers must stay flat (SOAK_ARGS="--scale 0.1" for a shorter run)
SOAK_ARGS ?=
soak: release
	@$(DNSWORLD) check >/dev/null || { echo "make soak needs root (for the private network namespace); see scripts/dnsworld check"; exit 1; }
	bash scripts/soak.sh $(SOAK_ARGS)

## fuzz: build Fuzz/ (libFuzzer + ASan) and run each fuzzer for FUZZ_SECONDS (default 60) from its seed corpus
FUZZ_SECONDS ?= 60
fuzz: deps
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh
