#!/usr/bin/env bash
# Builds tlsv and runs `tlsv demo` (README, first command).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTLSV_BUILD_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target tlsv >/dev/null
exec ./build/tlsv demo "$@"
