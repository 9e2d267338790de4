#!/bin/sh
# The C test suites (the library's, the C examples' and the command line's,
# which drives the sanitized forkjoin-tool) again, built with clang under
# AddressSanitizer (LeakSanitizer included) and UndefinedBehaviorSanitizer
# in build-asan/.  Called by `make test`; exits non-zero on any failure.
#
#   BUILDDIR_ASAN   the build directory (default build-asan)
#
# Introspection is off (the Python and gjs suites need an uninstrumented
# interpreter); -Db_lundef=false because the sanitizer runtimes are linked
# into executables only.

set -eu

srcdir=$(cd "$(dirname "$0")/.." && pwd)
builddir=${BUILDDIR_ASAN:-build-asan}
start=$(date +%s)

cd "$srcdir"

if [ ! -f "$builddir/build.ninja" ]; then
  CC=clang meson setup "$builddir" \
    --buildtype=debugoptimized \
    -Db_sanitize=address,undefined \
    -Db_lundef=false \
    -Dintrospection=false \
    -Ddocs=false \
    -Dtests=true
fi

meson compile -C "$builddir"

# G_SLICE=always-malloc: every GSlice block is a malloc the sanitizers see.
# FJ_TEST_TIME_SCALE widens the tests' wall-time bounds (and only those):
# instrumented code runs two to three times slower.
export G_SLICE=always-malloc
export G_DEBUG=gc-friendly
# fast_unwind_on_malloc=0: GLib is built without frame pointers, and the
# suppressions need whole allocation stacks to match.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0
export LSAN_OPTIONS="suppressions=$srcdir/tests/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export FJ_TEST_TIME_SCALE=3
# libproxy (C++) throws through GIO's resolver thread, which ASan's
# __cxa_throw interceptor cannot follow; the tests never use a proxy.
export GIO_USE_PROXY_RESOLVER=dummy

# Every C suite and the command line's (docs is a Python check of the
# sources) -- test-client aside, see below.
tests=$(meson test -C "$builddir" --list --no-rebuild --no-suite docs 2>/dev/null |
        sed 's|.* / ||' | grep -v '^test-client$')

status=0
# shellcheck disable=SC2086
meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier 3 \
  $tests || status=$?

# The https case loads glib-networking's GnuTLS module, whose dynamic TLS
# block crashes the leak checker of clang 14 on glibc 2.36 ("Tracer caught
# signal 11" at a bogus DTLS range; use_tls=0 instead reports false leaks).
# It runs with AddressSanitizer and UBSan but without leak checking; the
# rest of test-client runs with it.
meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier 3 \
  test-client --test-args '-s /Forkjoin/Client/https' || status=$?
ASAN_OPTIONS="$ASAN_OPTIONS:detect_leaks=0" \
  meson test -C "$builddir" --no-rebuild --print-errorlogs --timeout-multiplier 3 \
  test-client --test-args '-p /Forkjoin/Client/https' || status=$?

echo "test-asan.sh: $(( $(date +%s) - start )) s (build and run), exit $status"
exit $status
