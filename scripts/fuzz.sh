#!/usr/bin/env bash
# Runs the cargo-fuzz targets in fuzz/ for a given time each and prints, per target, the runs
# executed, execs per second, coverage (libFuzzer's final cov/ft) and the crashes found. Not
# run in CI: fuzzing takes minutes per target.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     (default: 600 seconds, every target)
#
# FUZZ_JOBS=N runs N targets at once (default 1). FUZZ_SANITIZER=none builds without
# AddressSanitizer (default: address). cargo-fuzz is installed if missing; on a stable
# toolchain RUSTC_BOOTSTRAP=1 lets it pass its nightly flags. The corpus is seeded from the
# test vectors (fuzz/seed.py) and grows in fuzz/corpus/<target>; crashes are saved in
# fuzz/artifacts/<target> (`cargo fuzz tmin <target> <file>` minimises one). Logs go to
# fuzz/logs/<target>.log. Run it under `nice` on a shared machine.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"

seconds="${1:-600}"
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  targets=(avro_schema protobuf_text protobuf_descriptor json_schema wire_frame avro_payload request_body)
fi
jobs="${FUZZ_JOBS:-1}"
sanitizer="${FUZZ_SANITIZER:-address}"

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "installing cargo-fuzz" >&2
  cargo install cargo-fuzz --locked
fi
if ! rustc --version | grep -q nightly; then
  export RUSTC_BOOTSTRAP=1
fi
flags=(--sanitizer "$sanitizer")
if [ -n "${CARGO_TARGET_DIR:-}" ]; then
  flags+=(--target-dir "$CARGO_TARGET_DIR")
fi

python3 seed.py >/dev/null
cargo fuzz build "${flags[@]}" >&2

mkdir -p logs
run() {
  local t="$1"
  mkdir -p "corpus/$t" "artifacts/$t"
  # -timeout: one input running 10 s is a hang; -rss_limit_mb: 2 GB is a memory blow-up.
  cargo fuzz run "${flags[@]}" "$t" "corpus/$t" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"logs/$t.log" 2>&1 || true
}

running=0
for t in "${targets[@]}"; do
  run "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait || true

# The logs may hold binary (a crashing input), hence grep -a; a missing figure prints as -.
printf '%-20s %8s %14s %10s %8s %8s %8s  %s\n' target seconds runs exec/s cov ft corpus crashes
for t in "${targets[@]}"; do
  log="logs/$t.log"
  stat() { grep -ao "stat::$1: *[0-9]*" "$log" | tail -n 1 | grep -o '[0-9]*$' || echo '-'; }
  last=$(grep -aE '^#[0-9]+.*cov:' "$log" | tail -n 1 || true)
  field() { echo "$last" | grep -o "$1: [0-9]*" | grep -o '[0-9]*$' || echo '-'; }
  # Each crash, hang or out-of-memory input is written out (and stops the run).
  artifacts=$(grep -ao 'Test unit written to [^ ]*' "$log" | sed 's/Test unit written to //' | tr '\n' ' ' || true)
  crashes=$(grep -ac 'Test unit written to' "$log" || true)
  printf '%-20s %8s %14s %10s %8s %8s %8s  %s\n' "$t" "$seconds" "$(stat number_of_executed_units)" \
    "$(stat average_exec_per_sec)" "$(field cov)" "$(field ft)" "$(field corp)" "${crashes:-0} ${artifacts}"
done
