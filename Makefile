# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing
# (scripts/install-deps.sh), configure and build; `run` then serves on :4566, `test` runs every
# unit and integration test through CTest.
BUILD ?= build
TYPE ?= Release
JOBS ?= $(shell nproc)
# CTest runs twice as many tests as cores: the integration tests spend most of their time waiting
# on a server, timer or client (all 70 used 296 CPU-s in 514 s at -j4 on a machine with load 9).
TEST_JOBS ?= $(shell echo $$(( 2 * $(JOBS) )))
PORT ?= 4566
DATA ?= ./.stratus

.PHONY: all deps npm-start configure build run test bench format tidy clean

all: build

deps:
	@scripts/install-deps.sh --system

# The integration tests' npm installs (3.5 minutes on a fresh clone) run in the background while
# the C++ build runs; `test` waits for them before CTest (scripts/install-deps.sh).
npm-start: deps
	@scripts/install-deps.sh --npm-start $(BUILD)

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/stratus serve --host 0.0.0.0 --port $(PORT) --data-dir $(DATA)

test: npm-start build
	@scripts/install-deps.sh --npm-wait $(BUILD)
	ctest --test-dir $(BUILD) --output-on-failure -j $(TEST_JOBS) --timeout 900

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh $(BUILD)

format:
	find src bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

tidy: configure
	find src -name '*.cc' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD)
