#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ and runs each on seeds made from the
# tests' own inputs (docs/robustness.md).
#
#   scripts/fuzz.sh [--seconds N] [TARGET...]
#
# TARGET is one of FuzzGGUF FuzzSafeTensors FuzzHFConfig FuzzSir FuzzPlan
# FuzzTokenizer FuzzJSON FuzzCluster (all when none is named); each runs for N seconds (default
# 10), one after the other. Everything is written under build-fuzz/: the
# build (clang-14, AddressSanitizer + UBSan + libFuzzer), the seeds
# (build-fuzz/fuzz/seeds), and per target a corpus copied from its seeds
# plus what the run adds (build-fuzz/fuzz/run/TARGET). Prints executions and
# coverage per target; exits non-zero on any finding (crash, sanitizer
# report, leak, timeout, out-of-memory), keeping the input and printing the
# command that reproduces it. STRATA_SHARED_DIR names the folder of the
# bundled models (default: ../shared beside the checkout).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

all=(FuzzGGUF FuzzSafeTensors FuzzHFConfig FuzzSir FuzzPlan FuzzTokenizer FuzzJSON FuzzCluster)
usage() {
  echo "usage: scripts/fuzz.sh [--seconds N] [TARGET...]" >&2
  echo "targets: ${all[*]}" >&2
  exit 2
}

seconds=10
targets=()
while (($#)); do
  case "$1" in
    --seconds) [[ $# -ge 2 ]] || usage; seconds=$2; shift 2 ;;
    --seconds=*) seconds=${1#--seconds=}; shift ;;
    -h|--help) usage ;;
    -*) usage ;;
    *) targets+=("$1"); shift ;;
  esac
done
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] || { echo "fuzz.sh: --seconds wants a positive integer" >&2; exit 2; }
((${#targets[@]})) || targets=("${all[@]}")
for t in "${targets[@]}"; do
  [[ " ${all[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t'" >&2; usage; }
done

dir=build-fuzz
work=$dir/fuzz
shared=${STRATA_SHARED_DIR:-$root/../shared}
stories=$shared/models/stories260K.gguf
[[ -f "$stories" ]] || { echo "fuzz.sh: $stories not found (set STRATA_SHARED_DIR)" >&2; exit 2; }

# --- Build ------------------------------------------------------------------
# The libraries carry libFuzzer's coverage instrumentation and the
# sanitizers; the targets add libFuzzer's main (fuzz/CMakeLists.txt).
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all"
CC=clang-14 CXX=clang++-14 cmake -S . -B "$dir" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g1" \
  -DSTRATA_BUILD_FUZZERS=ON -DSTRATA_BUILD_TESTS=OFF \
  -DSTRATA_BUILD_BENCHMARKS=OFF -DSTRATA_ENABLE_CUDA=OFF \
  -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_C_FLAGS="$flags" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
build=("${targets[@]}")
# The plan seeds are plans compiled as strata compile compiles them; the
# cluster seeds include the descriptions they record, and FuzzJSON reads
# both.
needs_plans=false
for t in "${targets[@]}"; do
  if [[ $t =~ ^(FuzzPlan|FuzzJSON|FuzzCluster)$ ]]; then needs_plans=true; fi
done
if $needs_plans; then build+=(MakePlanSeeds); fi
nice -n 5 cmake --build "$dir" --target "${build[@]}"

export ASAN_OPTIONS=detect_leaks=1:halt_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1

# --- Seeds ------------------------------------------------------------------
plans=$work/plans
rm -rf "$plans"
if $needs_plans; then
  models=$work/models
  rm -rf "$models"
  python3 tests/lit/import/Inputs/make_models.py "$models"
  "$dir/bin/MakePlanSeeds" "$plans" "$stories" "$models/hf-llama"
fi
python3 fuzz/make_seeds.py "$work/seeds" "$root" "$shared" "$plans"

# --- Runs -------------------------------------------------------------------
dict_of() {
  case "$1" in
    FuzzGGUF) echo fuzz/gguf.dict ;;
    FuzzSafeTensors|FuzzHFConfig|FuzzPlan|FuzzJSON|FuzzCluster) echo fuzz/json.dict ;;
    FuzzSir) echo fuzz/sir.dict ;;
    *) echo "" ;;
  esac
}

failed=()
summary=()
for t in "${targets[@]}"; do
  run=$work/run/$t
  rm -rf "$run"
  mkdir -p "$run/corpus" "$run/artifacts"
  cp -r "$work/seeds/$t/." "$run/corpus/"
  seeds=$(find "$run/corpus" -type f | wc -l)
  args=("$root/$run/corpus" -max_total_time="$seconds" -max_len=65536
        -rss_limit_mb=2048 -timeout=10 -print_final_stats=1
        -artifact_prefix="$root/$run/artifacts/")
  dict=$(dict_of "$t")
  [[ -n "$dict" ]] && args+=(-dict="$root/$dict")
  echo "== $t: $seconds s from $seeds seeds"
  rc=0
  # Run from the run's folder so that nothing lands in the sources.
  (cd "$run" && STRATA_FUZZ_VOCAB="$stories" nice -n 5 "$root/$dir/bin/$t" "${args[@]}" \
     >log 2>&1) || rc=$?
  execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$run/log" | tail -1)
  cov=$(grep -Eo 'cov: [0-9]+' "$run/log" | tail -1 | awk '{print $2}')
  # libFuzzer's own count of its corpus, inputs/bytes, from its last line.
  corpus=$(grep -Eo 'corp: [0-9]+/[0-9]+[a-zA-Z]*' "$run/log" | tail -1 | awk '{print $2}')
  found=$(find "$run/artifacts" -type f | head -1)
  summary+=("$(printf '%-16s executions %10s  cov %6s  corpus %12s  %s' \
    "$t" "${execs:-?}" "${cov:-?}" "${corpus:-?}" "$([[ $rc -eq 0 && -z $found ]] && echo ok || echo FAILED)")")
  if [[ $rc -ne 0 || -n "$found" ]]; then
    failed+=("$t")
    echo "fuzz.sh: $t found a problem (exit $rc); the end of $run/log:" >&2
    grep -E "ERROR|SUMMARY|runtime error|failed|deadly signal|Test unit written" "$run/log" | head -20 >&2 || true
    if [[ -n "$found" ]]; then
      echo "fuzz.sh: input kept in $found; reproduce with:" >&2
      echo "  $dir/bin/$t $found" >&2
    fi
  fi
done

echo
echo "fuzz.sh: $seconds s per target (build-fuzz/fuzz/run/TARGET/log)"
printf '%s\n' "${summary[@]}"
if ((${#failed[@]})); then
  echo "fuzz.sh: findings in ${failed[*]}" >&2
  exit 1
fi
