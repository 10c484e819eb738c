# The two commands a newcomer needs: `make run` and `make test`. Both install what is missing
# (scripts/install-deps.sh), configure and build; `run` then serves on :4566, `test` runs every
# unit and integration test through CTest.
BUILD ?= build
TYPE ?= Release
JOBS ?= $(shell nproc)
PORT ?= 4566
DATA ?= ./.stratus

.PHONY: all deps configure build run test bench format tidy clean

all: build

deps:
	@scripts/install-deps.sh

configure: deps
	@cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(TYPE) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/stratus serve --host 0.0.0.0 --port $(PORT) --data-dir $(DATA)

test: build
	ctest --test-dir $(BUILD) --output-on-failure -j $(JOBS) --timeout 900

bench: build
	@scripts/install-deps.sh --bench
	bench/run.sh $(BUILD)

format:
	find src bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

tidy: configure
	find src -name '*.cc' | xargs clang-tidy -p $(BUILD) --quiet

clean:
	rm -rf $(BUILD)
