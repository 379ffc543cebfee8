#!/usr/bin/env bash
# The test command of the README: install what is missing, build, and run
# every ctest test (unit, lit, runtime, the compile grid; GPU checks skip
# without a device). .ci/run runs this, then the sanitizer builds and the
# fuzzers. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja
cmake --build build
ctest --test-dir build --output-on-failure -j2 "$@"
