#!/usr/bin/env bash
# Runs every test of the project: the Rust unit and integration tests (real server over HTTP,
# real sled in temp dirs), then the Python tests that drive the real server with Confluent's
# own client (confluent-kafka) and replay the recorded Confluent 7.9.0 conformance corpus.
# Creates the Python venv in .venv on first use; needs only cargo and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo test --workspace

venv=.venv
requirements=tests/python/requirements.txt
stamp="$venv/.requirements.sha256"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
fi
if [ ! -f "$stamp" ] || ! sha256sum --check --status "$stamp"; then
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$requirements"
  sha256sum "$requirements" > "$stamp"
fi

cargo build --bin schemata
SCHEMATA_BIN="$PWD/target/debug/schemata" "$venv/bin/python" -m pytest tests/python -q
