#!/usr/bin/env bash
# What TLS and authentication cost: get-by-id from 100 connections (wrk, 2 threads) against
# a plain-HTTP server without authentication and against an HTTPS server with --auth-file,
# the caller using HTTP Basic (a scrypt user, verified once, then from the credential
# cache), in one run, alternating the two; prints req/s, latency and the ratio.
# Needs wrk and openssl (apt-get install wrk openssl). Arguments: [SECONDS] (default 10).
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-10}"
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }

cargo build --release --bin schemata
bin="$PWD/target/release/schemata"
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# A CA and a server certificate for 127.0.0.1.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=bench-ca \
  -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
  -keyout "$work/server.key" -out "$work/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' > "$work/san.ext"
openssl x509 -req -in "$work/server.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial -days 1 \
  -extfile "$work/san.ext" -out "$work/server.pem" 2>/dev/null

"$bin" passwd --username bench --password bench-secret > "$work/user.json"
python3 - "$work" <<'EOF'
import json, sys
work = sys.argv[1]
user = json.load(open(f"{work}/user.json"))
json.dump({"users": [user], "permissions": [{"username": "bench", "operation": "Write", "resource": ".*"}]},
          open(f"{work}/auth.json", "w"))
EOF
auth="Authorization: Basic $(printf 'bench:bench-secret' | base64)"

port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
plain_port=$(port)
tls_port=$(port)
RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$plain_port" --data-dir "$work/plain" & pids+=($!)
RUST_LOG=warn "$bin" serve --listen "127.0.0.1:$tls_port" --data-dir "$work/tls" \
  --tls-cert "$work/server.pem" --tls-key "$work/server.key" --auth-file "$work/auth.json" & pids+=($!)
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$plain_port/health/ready" >/dev/null \
    && curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$tls_port/health/ready" >/dev/null && break
  sleep 0.1
done
body='{"schema":"{\"type\":\"record\",\"name\":\"Bench\",\"fields\":[{\"name\":\"f\",\"type\":\"string\"}]}"}'
curl -sf -H 'Content-Type: application/json' -d "$body" "http://127.0.0.1:$plain_port/subjects/bench/versions" >/dev/null
curl -sf --cacert "$work/ca.pem" -H "$auth" -H 'Content-Type: application/json' -d "$body" \
  "https://127.0.0.1:$tls_port/subjects/bench/versions" >/dev/null

run() { wrk -t2 -c100 -d"${seconds}s" --latency "$@" | awk '/Requests\/sec/ {r=$2} /50%/ {p50=$2} /99%/ {p99=$2} END {print r, p50, p99}'; }
plain1=$(run "http://127.0.0.1:$plain_port/schemas/ids/1")
tls1=$(run -H "$auth" "https://127.0.0.1:$tls_port/schemas/ids/1")
plain2=$(run "http://127.0.0.1:$plain_port/schemas/ids/1")
tls2=$(run -H "$auth" "https://127.0.0.1:$tls_port/schemas/ids/1")
printf '%-40s %10s %8s %8s\n' "get by id, 100 connections" "req/s" "p50" "p99"
printf '%-40s %10s %8s %8s\n' "plain HTTP, no auth" $plain1
printf '%-40s %10s %8s %8s\n' "HTTPS + Basic auth" $tls1
printf '%-40s %10s %8s %8s\n' "plain HTTP, no auth (again)" $plain2
printf '%-40s %10s %8s %8s\n' "HTTPS + Basic auth (again)" $tls2
python3 - "$plain1" "$tls1" "$plain2" "$tls2" <<'EOF'
import sys
best = lambda a, b: max(float(a.split()[0]), float(b.split()[0]))
plain, tls = best(sys.argv[1], sys.argv[3]), best(sys.argv[2], sys.argv[4])
print(f"HTTPS + Basic / plain HTTP: {tls / plain:.2f}x (best of two runs each)")
EOF
