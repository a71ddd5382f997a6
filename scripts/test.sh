#!/usr/bin/env bash
# Runs every test of the project: the Rust unit and integration tests (real server over HTTP,
# real sled in temp dirs, a real Kafka-protocol broker for the Kafka store), the HTTP suites
# again against Kafka-backed servers, then the Python tests that drive the real server with
# Confluent's own client (confluent-kafka), replay the recorded Confluent 7.9.0 conformance
# corpus and check Confluent's `_schemas` record format both ways, then the web UI's unit
# tests (node) and browser tests (headless Chromium); last, the container image is built from
# the Dockerfile and run with podman.
# Creates the Python venv in .venv, installs the tansu broker (scripts/tansu.sh) and the UI
# tests' playwright-core (npm ci in tests/ui) on first use; needs cargo, python3, node and
# chromium, and for the container test podman (installed with apt-get when missing and running
# as root).
set -euo pipefail
cd "$(dirname "$0")/.."

TANSU_BIN="$(scripts/tansu.sh)"
export TANSU_BIN

cargo test --workspace

# The HTTP suites and the kill -9 test once more, every server on its own topic of one broker.
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
broker_log="$(mktemp)"
"$TANSU_BIN" broker --listener-url "tcp://127.0.0.1:$port" --advertised-listener-url "tcp://127.0.0.1:$port" \
  --storage-engine memory://tansu/ >"$broker_log" 2>&1 &
broker=$!
trap 'kill "$broker" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
# The integration tests are one binary (tests/it); a file's tests are selected by its module
# path, and several filters select the tests any of them matches.
http_suites=()
for f in tests/it/http_*.rs; do http_suites+=("$(basename "$f" .rs)::"); done
SCHEMATA_TEST_KAFKA="127.0.0.1:$port" cargo test --test it -- "${http_suites[@]}"
SCHEMATA_TEST_KAFKA="127.0.0.1:$port" cargo test --test it -- crash::sigkill
kill "$broker" 2>/dev/null || true
trap - EXIT

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

# The server, and the produce/consume examples that test_produce_consume.py runs.
cargo build --bin schemata --examples
SCHEMATA_BIN="$PWD/target/debug/schemata" SCHEMATA_EXAMPLES="$PWD/target/debug/examples" \
  "$venv/bin/python" -m pytest tests/python -q

# The web UI (/ui): unit tests of its logic under node, then browser tests: headless Chromium
# from Debian's packages driven by playwright-core (pinned in tests/ui/package-lock.json),
# against the binary built above. Screenshots land in target/ui-screenshots/.
if ! command -v node >/dev/null || ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    apt-get install -y -qq nodejs npm chromium
  else
    echo "The web UI tests need node (18+), npm and chromium: sudo apt-get install nodejs npm chromium" >&2
    exit 1
  fi
fi
node --test ui/tests/
ui_stamp=tests/ui/node_modules/.package-lock.sha256
if [ ! -f "$ui_stamp" ] || ! sha256sum --check --status "$ui_stamp"; then
  (cd tests/ui && npm ci --no-audit --no-fund --loglevel=error)
  sha256sum tests/ui/package-lock.json > "$ui_stamp"
fi
(cd tests/ui && SCHEMATA_BIN="$PWD/../../target/debug/schemata" node --test --test-concurrency=1 browser.test.mjs)

# The container image, built from the unchanged Dockerfile with podman and run: a volume, a
# schema kept across a restart, the health check, a non-root process, exit 0 on SIGTERM
# (scripts/container-test.sh). SCHEMATA_SKIP_CONTAINER=1 skips it.
if [ "${SCHEMATA_SKIP_CONTAINER:-}" = 1 ]; then
  echo "scripts/test.sh: container test skipped (SCHEMATA_SKIP_CONTAINER=1)" >&2
else
  bash scripts/container-test.sh
fi
