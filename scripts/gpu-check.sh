#!/usr/bin/env bash
# Builds and runs every check that needs a CUDA device (ctest label `gpu`).
#
#   scripts/gpu-check.sh                 build (Release, CUDA) into build-gpu
#                                        and run `ctest -L gpu` (the tests are
#                                        built by the normal build)
#   scripts/gpu-check.sh --pack DIR      build, then put strata, the shared
#                                        libraries it loads (glibc included),
#                                        the GPU checks and the bundled model
#                                        into DIR, for a GPU machine that has
#                                        a driver but not this toolchain
#   scripts/gpu-check.sh --packed DIR    run the checks from such a DIR
#
# Each check skips (exit 77) with a message where no device is found.
set -euo pipefail
cd "$(dirname "$0")/.."

model=../shared/models/stories260K.gguf

# STRATA_GPU_BUILD names another (already configured) build folder to use.
b=${STRATA_GPU_BUILD:-build-gpu}

build() {
  if [ ! -f "$b/CMakeCache.txt" ]; then
    cmake -S . -B "$b" -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DSTRATA_ENABLE_CUDA=ON -DSTRATA_BUILD_BENCHMARKS=OFF >/dev/null
  fi
  cmake --build "$b" --target strata
}

# Runs each GPU check in CHECKS with STRATA and MODEL; fails if any fails.
run_checks() {
  local checks=$1 strata=$2 model=$3 work=$4 status=0 rc
  for check in "$checks"/*.py; do
    echo "== $check"
    set +e
    python3 "$check" "$strata" "$model" "$work"
    rc=$?
    set -e
    case $rc in
      0) ;;
      77) echo "(skipped)" ;;
      *) status=1 ;;
    esac
  done
  return $status
}

case "${1:-}" in
  "")
    build
    ctest --test-dir "$b" -L gpu --output-on-failure
    ;;
  --pack)
    dir=${2:?usage: scripts/gpu-check.sh --pack DIR}
    build
    rm -rf "$dir" && mkdir -p "$dir/lib" "$dir/tests"
    cp "$b/bin/strata" "$dir/strata.bin"
    # Every library strata loads, the C library and its loader too: the GPU
    # machine's may be older than the one strata was linked against. The
    # parts of glibc that libcuda may load (libdl, libpthread, librt) come
    # along so that one glibc is mixed with no other.
    ldd "$b/bin/strata" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' |
      while read -r lib; do cp -L "$lib" "$dir/lib/"; done
    for extra in libdl.so.2 libpthread.so.0 librt.so.1; do
      src=$(ldconfig -p | awk -v l="$extra" '$1 == l && /x86-64/ {print $NF; exit}')
      [ -n "$src" ] && cp -L "$src" "$dir/lib/"
    done
    cat >"$dir/strata" <<'WRAP'
#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
exec "$here/lib/ld-linux-x86-64.so.2" \
  --library-path "$here/lib:${LD_LIBRARY_PATH:-}:/usr/local/nvidia/lib64:/usr/lib/x86_64-linux-gnu:/usr/lib64" \
  "$here/strata.bin" "$@"
WRAP
    chmod +x "$dir/strata"
    cp tests/gpu/*.py "$dir/tests/"
    cp "$model" "$dir/"
    du -sh "$dir"
    ;;
  --packed)
    dir=$(cd "${2:?usage: scripts/gpu-check.sh --packed DIR}" && pwd)
    nvidia-smi -L || true
    "$dir/strata" --version
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    run_checks "$dir/tests" "$dir/strata" "$dir/$(basename "$model")" "$work"
    ;;
  *)
    echo "usage: scripts/gpu-check.sh [--pack DIR | --packed DIR]" >&2
    exit 2
    ;;
esac
