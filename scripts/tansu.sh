#!/usr/bin/env bash
# Prints the path of a tansu broker binary (a Kafka-protocol broker the Kafka-store tests run
# on loopback), installing it with cargo on first use into a cache outside the clone, so that
# later runs (and CI runs on the same machine) reuse it. TANSU_BIN, when set, is used as is.
set -euo pipefail
version=0.6.0
if [ -n "${TANSU_BIN:-}" ]; then
  echo "$TANSU_BIN"
  exit 0
fi
root="${SCHEMATA_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/schemata}/tansu-$version"
bin="$root/bin/tansu"
if [ ! -x "$bin" ]; then
  echo "installing tansu $version into $root (once; several minutes)" >&2
  cargo install tansu --version "$version" --locked --features dynostore --root "$root" >&2
fi
echo "$bin"
