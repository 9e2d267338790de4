#!/bin/sh
# test-fuzz.sh — build the libFuzzer targets (tests/fuzz) in build-fuzz/,
# replay each one's corpus, then run each a fixed number of iterations
# from a fixed seed.  Deterministic; exits non-zero on any finding.  The
# whole build is sanitized and carries coverage instrumentation
# (-fsanitize=fuzzer-no-link), so libFuzzer sees into the library.
#
#   FUZZ_RUNS=N      iterations per target (default: sse and reply 40000,
#                    spec and scenario 100000; each about 10-20 s here)
#   FUZZ_BUILDDIR    build directory (default build-fuzz)
#
# Longer runs, outside CI:  build-fuzz/tests/fuzz/fuzz-sse -max_total_time=180 \
#   -seed=1 "$(mktemp -d)" tests/fuzz/corpus/sse

set -eu

cd "$(dirname "$0")/.."
srcdir=$(pwd)
builddir=${FUZZ_BUILDDIR:-build-fuzz}
runs_for () {
  if [ -n "${FUZZ_RUNS:-}" ]; then
    echo "$FUZZ_RUNS"
  else
    case $1 in
      sse|reply) echo 40000 ;;
      *)         echo 100000 ;;
    esac
  fi
}
fixtures=$srcdir/../shared/fixtures
targets="sse reply spec scenario"

if ! command -v clang >/dev/null 2>&1; then
  echo "test-fuzz: clang is not installed (build-aux/install-deps.sh)" >&2
  exit 1
fi

buildlog=$(mktemp)
if [ ! -f "$builddir/build.ninja" ]; then
  if ! CC=clang meson setup "$builddir" -Dfuzzing=true \
         -Db_sanitize=address,undefined -Db_lundef=false \
         -Dintrospection=false -Dtests=true \
         -Dc_args=-fsanitize=fuzzer-no-link >"$buildlog" 2>&1; then
    cat "$buildlog" >&2
    rm -f "$buildlog"
    echo "test-fuzz: meson setup failed" >&2
    exit 1
  fi
fi

ninja_targets=
for t in $targets; do
  ninja_targets="$ninja_targets tests/fuzz/fuzz-$t"
done
# shellcheck disable=SC2086
if ! ninja -C "$builddir" $ninja_targets >"$buildlog" 2>&1; then
  cat "$buildlog" >&2
  rm -f "$buildlog"
  echo "test-fuzz: building the fuzz targets failed" >&2
  exit 1
fi
rm -f "$buildlog"

ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1:allocator_may_return_null=1
UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
G_SLICE=always-malloc
G_DEBUG=gc-friendly
export ASAN_OPTIONS UBSAN_OPTIONS G_SLICE G_DEBUG

# Determinism: -seed=1, -reload=0 (no timed re-reads of the corpus dirs)
# and no address space randomization (pointer values, so hash table
# orders and the coverage libFuzzer steers by, repeat): every run tries
# the same inputs.
norand=
if setarch "$(uname -m)" -R true >/dev/null 2>&1; then
  norand="setarch $(uname -m) -R"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Seeds from the shared fixtures, when the checkout has ../shared beside
# it: read in place, never copied into the tree.
extra_seeds () {
  [ -d "$fixtures" ] || return 0
  case $1 in
    sse)   mkdir -p "$work/extra-sse"
           for f in "$fixtures"/*.sse; do [ -f "$f" ] && cp "$f" "$work/extra-sse/"; done
           echo "$work/extra-sse" ;;
    reply) mkdir -p "$work/extra-reply"
           for f in "$fixtures"/*.json; do [ -f "$f" ] && cp "$f" "$work/extra-reply/"; done
           echo "$work/extra-reply" ;;
  esac
}

status=0
for t in $targets; do
  exe=$builddir/tests/fuzz/fuzz-$t
  corpus=$srcdir/tests/fuzz/corpus/$t
  log=$work/$t.log
  extra=$(extra_seeds "$t")
  start=$(date +%s)

  # Replay: every seed once, nothing written.
  # shellcheck disable=SC2086
  if ! $norand "$exe" -runs=0 "$corpus" $extra >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz-$t: FAILED replaying its corpus" >&2
    status=1
    continue
  fi
  n_seeds=$(sed -n 's/.*INITED.*corp: \([0-9]*\).*/\1/p' "$log" | tail -n 1)

  # Fixed seed, fixed count; new inputs go to a scratch dir, never to the
  # source corpus (it comes second, so it is only read).
  mkdir -p "$work/new-$t"
  # shellcheck disable=SC2086
  if ! $norand "$exe" -seed=1 -runs="$(runs_for "$t")" -max_len=4096 -reload=0 -timeout=10 -rss_limit_mb=2048 \
         -artifact_prefix="$work/" "$work/new-$t" "$corpus" $extra >"$log" 2>&1; then
    cat "$log" >&2
    echo "fuzz-$t: FAILED (a crash or a sanitizer report; the input is shown above)" >&2
    for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
      [ -f "$a" ] && echo "fuzz-$t: input: $(od -An -c "$a" | head -c 400)" >&2
    done
    status=1
    continue
  fi
  end=$(date +%s)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
  if [ -z "$execs" ]; then
    execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
  fi
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
  echo "fuzz-$t: ok, ${n_seeds:-?} corpus inputs replayed, ${execs:-?} executions (seed 1), ${cov:-cov: ?}, $((end - start)) s"
done

exit $status
