# logship: the two commands of the README, and helpers.
#   make run    install packages if missing, build, start logshipd (./data, :8080)
#   make test   install packages if missing, build with sanitizers, run every test
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)
ARGS       ?=

.PHONY: run build test deps-run deps-test unit integration fuzz bench format clean

run: deps-run build
	./$(BUILD)/logshipd $(ARGS)

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

deps-run:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

test: deps-test
	CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_SANITIZE=ON \
	    -DLOGSHIP_TESTS=ON -DLOGSHIP_FUZZ=ON >/dev/null
	cmake --build $(TEST_BUILD) -j$(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS)
	cd tests/integration/node && { { [ -d node_modules/ws ] && [ -d node_modules/pino-loki ] && \
	    [ -d node_modules/@opentelemetry/exporter-logs-otlp-proto ] && \
	    [ -d node_modules/@fluent-org/logger ] && [ -d node_modules/gelf-pro ] && \
	    [ -d node_modules/@elastic/elasticsearch ] && [ -d node_modules/winston-loki ]; } || \
	    npm ci --no-audit --no-fund; }
	cd tests/ui && { [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund; }
	LOGSHIPD=$(TEST_BUILD)/logshipd /usr/bin/python3 -m pytest -q tests/integration

unit: deps-test
	CC=clang cmake -S . -B $(TEST_BUILD) -DCMAKE_BUILD_TYPE=Debug -DLOGSHIP_SANITIZE=ON \
	    -DLOGSHIP_TESTS=ON -DLOGSHIP_FUZZ=ON >/dev/null
	cmake --build $(TEST_BUILD) -j$(JOBS)
	cd $(TEST_BUILD) && ctest --output-on-failure -j$(JOBS)

integration:
	LOGSHIPD=$(TEST_BUILD)/logshipd /usr/bin/python3 -m pytest -q tests/integration $(PYTEST_ARGS)

bench:
	@scripts/deps.sh bench
	bench/http_ingest.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(TEST_BUILD)
