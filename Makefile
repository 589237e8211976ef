# The commands people type. CMake does the building; this file only names the steps.
#   make demo | demo-down | test | build | deps | bench | fuzz | clean
SHELL := /bin/bash
MAKEFLAGS += --no-print-directory
JOBS  ?= $(shell nproc)
FUZZ_SECONDS ?= 60

.PHONY: all deps build build-asan test test-unit demo demo-down bench fuzz clean

all: build

deps:
	@scripts/install-deps

build/CMakeCache.txt:
	@cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null

build: deps build/CMakeCache.txt
	@cmake --build build -j$(JOBS)

build-asan/CMakeCache.txt:
	@cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLUICE_SANITIZE=ON >/dev/null

build-asan: deps build-asan/CMakeCache.txt
	@cmake --build build-asan -j$(JOBS)

# Every suite in the normal build, then every suite again under ASan + UBSan.
# The last lines are ctest's summary of the sanitizer run.
test: build build-asan
	@echo "== tests: release build"
	@cd build && ctest --output-on-failure -j$(JOBS)
	@echo "== tests: AddressSanitizer + UndefinedBehaviorSanitizer build"
	@cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j$(JOBS)

test-unit: build
	@cd build && ctest --output-on-failure -j$(JOBS) -L 'unit|fuzz'

# The world with the portal and the demo's policy, both gateways and both
# devices' clients, then what it shows.
demo: build
	@tests/world/world.sh up
	@tests/world/gateway.sh start
	@tests/world/gateway.sh --name gw2 start
	@tests/world/client.sh start
	@tests/world/client.sh --name client2 start
	@tests/world/demo.sh

demo-down:
	@tests/world/world.sh down

bench: build
	@for b in bench/*.sh; do [ -e "$$b" ] || continue; echo "== $$b"; bash "$$b" || exit 1; done

build-fuzz/CMakeCache.txt:
	@CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLUICE_FUZZ=ON >/dev/null

# Builds every libFuzzer target and runs each for FUZZ_SECONDS on its corpus
# (new inputs go to build-fuzz/corpus-<name>/, findings to fuzz/artifacts/).
fuzz: deps build-fuzz/CMakeCache.txt
	@cmake --build build-fuzz -j$(JOBS)
	@mkdir -p fuzz/artifacts
	@for f in build-fuzz/fuzz/fuzz_*; do \
		n=$${f##*/fuzz_}; mkdir -p build-fuzz/corpus-$$n; \
		echo "== fuzz $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=fuzz/artifacts/$$n- \
			-print_final_stats=1 build-fuzz/corpus-$$n fuzz/corpus/$$n || exit 1; \
	done

clean:
	rm -rf build build-asan build-fuzz
