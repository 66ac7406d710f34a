#!/usr/bin/env bash
# Builds tlsv and runs every test (README, second command; .ci/run calls it).
#   1. a normal build (RelWithDebInfo), its CTest suite;
#   2. the same suite built with -fsanitize=address,undefined: any sanitizer
#      report aborts the test that hit it, so the run fails.
#   3. a build with -DTLSV_ENABLE_SSL3=ON, its in-process tests (unit, build,
#      tool, leak; not the interop and end-to-end suites, which need peers
#      that speak what the normal builds speak, nor the valgrind constant-time
#      test, which the normal build runs).
#   4. a fuzz smoke: the libFuzzer targets of fuzz/, built with clang, each
#      run for a minute on its committed corpus (fuzz/run for longer runs).
# Exits non-zero if any build or test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh --test
jobs=$(nproc)

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_suite() { # name, ctest label filter ("" = all), cmake args...
  local dir="build-ci-$1"; shift
  local filter="$1"; shift
  echo "=== tlsv: $dir ($*) ==="
  cmake -S . -B "$dir" "$@" >/dev/null
  if ! cmake --build "$dir" -j"$jobs" >"$dir/build.log" 2>&1; then
    cat "$dir/build.log"
    echo "=== tlsv: $dir: BUILD FAILED ==="
    return 1
  fi
  if [[ -n "$filter" ]]; then
    (cd "$dir" && ctest --output-on-failure -j"$jobs" -LE "$filter")
  else
    (cd "$dir" && ctest --output-on-failure -j"$jobs")
  fi
}

status=0
# The SSL 3.0 build runs the in-process suites (SSL 3.0 is tlsv against tlsv:
# no peer here speaks it); the other two run everything, interop included.
run_suite ssl3 "interop|e2e|ct" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSV_ENABLE_SSL3=ON || status=1
run_suite asan "" -DCMAKE_BUILD_TYPE=Debug -DTLSV_SANITIZE=ON || status=1
# The fuzz smoke: every libFuzzer target (fuzz/) for a minute on its committed
# seed corpus, built with clang, ASan+UBSan and the fixed random sequence; a
# crash fails its test (reproduce with fuzz/run --repro). Before the normal
# suite, so that the run still ends with its summary.
run_suite fuzz "" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DTLSV_FUZZING=ON -DTLSV_SANITIZE=ON -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link \
  -DTLSV_BUILD_TESTS=OFF -DTLSV_BUILD_BENCH=OFF -DTLSV_BUILD_TOOLS=OFF || status=1
run_suite normal "" -DCMAKE_BUILD_TYPE=RelWithDebInfo || status=1
exit $status
