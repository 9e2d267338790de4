# forkjoin — the two set-up commands.
#
#   make demo   install what is missing, build, run the seed fork-join against the simulator
#   make test   install what is missing, build, run every test
#
# BUILDDIR and MESON_ARGS may be overridden (the default builds the API
# reference too, so gi-docgen warnings fail the build).

BUILDDIR ?= build
MESON_ARGS ?= -Ddocs=true

.PHONY: all deps setup build demo test bench clean

all: build

deps:
	@./build-aux/install-deps.sh

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) $(MESON_ARGS)

setup: deps $(BUILDDIR)/build.ninja

build: setup
	meson compile -C $(BUILDDIR)

# The seed fork-join through the command line, against the built-in
# simulator: `meson devenv` puts the built tool on PATH and the built
# plugins in FORKJOIN_PLUGIN_PATH.
demo: build
	meson devenv -C $(BUILDDIR) -w $(CURDIR) \
	  forkjoin-tool run --simulate=data/scenarios/q3-demo.json data/examples/q3-analysis.json

# The main build's suites, then its C suites again under valgrind memcheck,
# then the C suites under AddressSanitizer and UndefinedBehaviorSanitizer
# (build-asan/), then the fuzz targets' corpus replay and a fixed, seeded
# number of runs (build-fuzz/).
test: build
	GIO_USE_PROXY_RESOLVER=dummy meson test -C $(BUILDDIR) --print-errorlogs
	BUILDDIR=$(BUILDDIR) ./build-aux/test-valgrind.sh
	./build-aux/test-asan.sh
	./build-aux/test-fuzz.sh

# forkjoin-tool against the Node SDK peer (bench/peers/node) on the same
# simulator; writes bench/RESULTS.md.  Not part of CI: installs node/npm
# (and GNU time, for peak RSS) from Debian when they are missing.
bench: build
	@command -v node >/dev/null && command -v npm >/dev/null && test -x /usr/bin/time || \
	  { apt-get update && apt-get install -y --no-install-recommends nodejs npm time; }
	./bench/bench.py $(BUILDDIR)

clean:
	rm -rf $(BUILDDIR) build-asan build-fuzz
