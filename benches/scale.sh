#!/usr/bin/env bash
# Builds schemata and the scale bench in release mode and runs it (benches/scale.rs): start-up
# time and RSS at 1k/10k/100k schemas, listings with 100k subjects, FULL_TRANSITIVE growth.
# The data directories are created under $TMPDIR (or --dir PARENT) and removed afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo build --release --bin schemata
scale=$(cargo bench --no-run --bench scale 2>&1 | sed -n 's/.*Executable benches\/scale.rs (\(.*\))/\1/p' | tail -1)
"$scale" --schemata target/release/schemata "$@"
