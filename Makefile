# forkjoin — the two set-up commands.
#
#   make demo   install what is missing, build, run the demos against the simulator
#   make test   install what is missing, build, run every test
#
# BUILDDIR and MESON_ARGS may be overridden.

BUILDDIR ?= build
MESON_ARGS ?=

.PHONY: all deps setup build demo test clean

all: build

deps:
	@./build-aux/install-deps.sh

$(BUILDDIR)/build.ninja:
	meson setup $(BUILDDIR) $(MESON_ARGS)

setup: deps $(BUILDDIR)/build.ninja

build: setup
	meson compile -C $(BUILDDIR)

demo: build
	$(BUILDDIR)/examples/c/fj-stream-demo --simulate
	@echo
	$(BUILDDIR)/examples/c/fj-team-demo --simulate --scenario data/scenarios/research-team.json
	@echo
	FORKJOIN_PLUGIN_PATH=$(BUILDDIR)/plugins/synthesis/llm \
	  $(BUILDDIR)/examples/c/fj-fork-join-demo --simulate --scenario data/scenarios/q3-demo.json

test: build
	GIO_USE_PROXY_RESOLVER=dummy meson test -C $(BUILDDIR) --print-errorlogs

clean:
	rm -rf $(BUILDDIR)
