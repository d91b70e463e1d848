# logship: the two commands of the README, and helpers.
#   make run    install packages if missing, build, start logshipd (./data, :8080)
#   make test   install packages if missing, build with sanitizers, run every test
#   make install build and install under PREFIX (/usr/local), staged in DESTDIR
#   make deb    build the Debian package (debian/) into $(BUILD)/deb/
BUILD      ?= build
TEST_BUILD ?= build-test
JOBS       ?= $(shell nproc)
ARGS       ?=
PREFIX     ?= /usr/local
DESTDIR    ?=

.PHONY: run build test deps-run deps-test unit integration fuzz bench format clean install deb deps-deb

run: deps-run build
	./$(BUILD)/logshipd $(ARGS)

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j$(JOBS)

# logshipd, logship, liblogship (.so with its soname, .a), logship.h,
# liblogship.pc, man pages, the systemd unit and the example config
# (cmake/install.cmake). The library cache is refreshed for a real install.
install: deps-run
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	cmake --build $(BUILD) -j$(JOBS)
	DESTDIR=$(DESTDIR) cmake --install $(BUILD)
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" -eq 0 ]; then ldconfig; fi

# The Debian packages (debian/): logship (logshipd, logship, the unit, the
# config), liblogship0 and liblogship-dev, built by debhelper from a copy
# of this tree (tracked and new files, not ignored ones) in $(BUILD)/deb/,
# where the .debs land.
VERSION := $(shell sed -n 's/^\#define LOGSHIP_VERSION "\(.*\)"/\1/p' src/common/version.h)
deb: deps-deb
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/logship-$(VERSION)
	git ls-files -z --cached --others --exclude-standard | \
	    tar --null -T - -c --ignore-failed-read 2>/dev/null | tar -x -C $(BUILD)/deb/logship-$(VERSION)
	cd $(BUILD)/deb/logship-$(VERSION) && dpkg-buildpackage -b -us -uc -j$(JOBS)
	@ls $(BUILD)/deb/*.deb

deps-deb:
	@scripts/deps.sh deb

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
