#!/usr/bin/env bash
# Builds schemata and the isolation bench (benches/isolation.rs) in release mode and runs it:
# get-by-id alone, while compatibility checks run, and while a writer commits too.
# Arguments are passed on, e.g.: benches/isolation.sh --seconds 5 --clients 64 --checkers 4
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin schemata
bench=$(cargo bench --no-run --bench isolation 2>&1 | sed -n "s/.*Executable benches\/isolation.rs (\(.*\))/\1/p" | tail -1)
"$bench" --schemata target/release/schemata "$@"
