#!/usr/bin/env bash
# Builds the tests with a sanitizer into their own folder and runs them.
#
#   scripts/sanitize.sh asan [CTEST-ARGS...]   AddressSanitizer + UBSan, every test
#   scripts/sanitize.sh tsan [CTEST-ARGS...]   ThreadSanitizer, the runtime's
#                                              multi-device tests (the threads)
#
# Extra arguments go to ctest (e.g. -R Runtime). Exits non-zero on any
# finding: the sanitizers are set to halt on the first error.
set -euo pipefail
cd "$(dirname "$0")/.."

kind=${1:-}
shift || true
case "$kind" in
  asan)
    flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
    dir=build-asan
    export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    default=()
    targets=()
    ;;
  tsan)
    flags="-fsanitize=thread"
    dir=build-tsan
    export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
    # The threads live in the runtime: its tests, and strata run on 1, 2
    # and 4 devices (lit).
    default=(-R "StoriesLayouts|RandomBF16Model|StoriesModel|lit-runtime")
    # Only what those tests need.
    targets=(--target StrataRuntimeTests strata)
    ;;
  *)
    echo "usage: scripts/sanitize.sh asan|tsan [ctest arguments]" >&2
    exit 2
    ;;
esac

# -O1 -g1: at -O2 -g the instrumented code takes about twice as long to
# compile, and line tables are all a report needs.
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DSTRATA_BUILD_BENCHMARKS=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="$flags" >/dev/null
cmake --build "$dir" "${targets[@]}"
if [ $# -gt 0 ]; then
  ctest --test-dir "$dir" --output-on-failure "$@"
else
  ctest --test-dir "$dir" --output-on-failure "${default[@]}"
fi
