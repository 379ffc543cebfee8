#!/usr/bin/env bash
# Installs, from Debian's packages, whatever Strata's build and tests need
# that this machine lacks. Installs nothing when everything is there.
set -euo pipefail

packages=(
  cmake ninja-build g++ ccache python3
  llvm-14-dev llvm-14-tools          # LLVM Support (static), FileCheck, lit, not
  clang-14 libclang-rt-14-dev        # libFuzzer and sanitizers (scripts/fuzz.sh)
  libspdlog-dev libfmt-dev
  libgtest-dev libbenchmark-dev
  graphviz chromium                  # lit-viz: render DOT, open the HTML report headless
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: everything is installed"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
