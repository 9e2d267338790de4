#!/bin/sh
# test-valgrind.sh — every C test suite of the main build (library, C
# examples) again under valgrind memcheck with GLib's suppressions and
# tests/valgrind.supp (meson's `valgrind` test setup, tests/meson.build):
# a definite leak, an invalid read or write, or a use of uninitialised
# memory fails the suite.  Called by `make test`; exits non-zero on any
# failure.
#
#   BUILDDIR   the build directory (default build, already built)
#
# The Python, gjs and command-line suites are not wrapped (valgrind would
# run the interpreter); tests/python/valgrind-check.py covers the bindings.
# FJ_TEST_TIME_SCALE=10 (set by the setup) widens the tests' wall-time
# bounds, and only those.

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR:-build}
start=$(date +%s)

cd "$srcdir"

# The suites of the default group plus the C examples: no python, gjs,
# gtk, cli or docs suite.
tests=$(meson test -C "$builddir" --list --no-rebuild 2>/dev/null |
        grep -E '^forkjoin / |^forkjoin:examples / example-c-' |
        sed 's|.* / ||')

status=0
# shellcheck disable=SC2086
GIO_USE_PROXY_RESOLVER=dummy \
  meson test -C "$builddir" --setup=valgrind --no-rebuild --print-errorlogs $tests || status=$?

echo "test-valgrind.sh: $(( $(date +%s) - start )) s, exit $status"
exit $status
