#!/usr/bin/env bash
# Installs what building and testing tlsv needs on Debian 12, if missing.
# Used by scripts/demo.sh and scripts/test.sh; safe to run again.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libssl-dev)
test_pkgs=(libcmocka-dev libjansson-dev openssl gnutls-bin curl python3 tshark clang libclang-rt-14-dev valgrind)

want=("${build_pkgs[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${test_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ $(id -u) -ne 0 ]] && sudo="sudo"
  echo "deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi
