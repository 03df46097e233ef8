#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input, bounded in time: each target runs
# for FUZZ_SECONDS (default 40) from its committed seeds and regression inputs in
# fuzz/seeds/<target>/ (copied, so the committed folders stay as they are). A crash fails the
# run and leaves its input in fuzz/artifacts/<target>/: add it to fuzz/seeds/<target>/ with the
# fix, so it is replayed on every run. Usage: fuzz/run.sh [target …]
set -euo pipefail
cd "$(dirname "$0")"
seconds=${FUZZ_SECONDS:-40}
if ! rustup toolchain list | grep -q '^nightly'; then
  # libFuzzer's instrumentation needs nightly; this machine cannot fetch toolchains.
  echo "NOTICE: no nightly toolchain on this machine: the fuzz targets were not run"
  exit 0
fi
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --quiet
targets=("$@")
[ ${#targets[@]} -gt 0 ] || mapfile -t targets < <(cargo +nightly fuzz list)
# No sanitizer: the code fuzzed is safe Rust, and what is looked for is a panic, an abort or a
# hang; instrumentation for coverage stays on.
cargo +nightly fuzz build -s none
for t in "${targets[@]}"; do
  corpus=$(mktemp -d)
  [ -d "seeds/$t" ] && cp -r "seeds/$t/." "$corpus/"
  echo "fuzz $t: ${seconds}s from $(find "$corpus" -type f | wc -l) seeds"
  log=$(mktemp)
  status=0
  cargo +nightly fuzz run -s none "$t" "$corpus" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 >"$log" 2>&1 || status=$?
  grep -E '^stat::(number_of_executed_units|peak_rss_mb|new_units_added)' "$log" || true
  rm -rf "$corpus"
  if [ "$status" -ne 0 ]; then
    tail -n 60 "$log"
    echo "fuzz $t: FAILED (the input is in fuzz/artifacts/$t/)"
    exit 1
  fi
  rm -f "$log"
done
