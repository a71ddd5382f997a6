#!/usr/bin/env bash
# Builds schemata and the benches in release mode and runs the load bench (benches/load.rs):
# disk fsync rate, the baseline ceiling, then schemata under each request type, with ratios.
# Arguments are passed on, e.g.: benches/load.sh --schemas 10000 --subjects 100 --seconds 5
# The data directory is created under $TMPDIR (or --dir PARENT) and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin schemata
bench_bin() {
  cargo bench --no-run --bench "$1" 2>&1 | sed -n "s/.*Executable benches\/$1.rs (\(.*\))/\1/p" | tail -1
}
baseline=$(bench_bin baseline)
load=$(bench_bin load)
"$load" --schemata target/release/schemata --baseline "$baseline" "$@"
