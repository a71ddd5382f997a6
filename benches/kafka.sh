#!/usr/bin/env bash
# Builds schemata and the Kafka store bench in release mode and runs it (benches/kafka.rs)
# against a tansu broker (installed by scripts/tansu.sh on first use). Arguments are passed
# on, e.g.: benches/kafka.sh --schemas 10000 --records 100000 --seconds 5
set -euo pipefail
cd "$(dirname "$0")/.."

tansu=$(scripts/tansu.sh)
cargo build --release --bin schemata
bench=$(cargo bench --no-run --bench kafka 2>&1 | sed -n "s/.*Executable benches\/kafka.rs (\(.*\))/\1/p" | tail -1)
"$bench" --schemata target/release/schemata --tansu "$tansu" "$@"
