#!/usr/bin/env bash
# Login throughput of a real `latchkey serve` (release build, SQLite, OWASP argon2id) against
# the raw argon2id rate of the same machine, measured in the same run. Prints the figures and
# the ratio; docs/PERFORMANCE.md records them. Not part of the tests.
#
#   bench/login.sh [seconds per phase] [connections] [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-20}"
CONNECTIONS="${2:-8}"
ROUNDS="${3:-3}"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -p latchkey --bin latchkey >&2
cargo build --release --locked -p latchkey-testkit --example argon2_rate >&2

server=""
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$work/latchkey.toml" <<TOML
listen = "127.0.0.1:$port"
data_dir = "$work/data"
log = "warn"
[throttle]
account_failures = 1000000
ip_failures = 1000000
TOML
export LATCHKEY_CONFIG="$work/latchkey.toml"
echo "bench-password-123" | target/release/latchkey user create --email bench@example.com --verified --password-stdin >/dev/null
target/release/latchkey serve 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "argon2id m=19456 t=2 p=1; ${ROUNDS} rounds of: raw hash rate on $(nproc) threads for ${SECONDS_PER_RUN}s, then POST /login with ${CONNECTIONS} connections for ${SECONDS_PER_RUN}s"
# Interleaved rounds, so a noisy neighbour on a shared machine hits both sides alike.
: >"$work/ratios"
for round in $(seq 1 "$ROUNDS"); do
  raw=$(target/release/examples/argon2_rate "$SECONDS_PER_RUN" "$(nproc)" | sed 's/.*rate=//')
  wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s bench/login.lua "http://127.0.0.1:$port/login" >"$work/wrk.out"
  rps=$(grep '^login_rps=' "$work/wrk.out" | cut -d= -f2)
  p50=$(grep '^login_p50_ms=' "$work/wrk.out" | cut -d= -f2)
  p99=$(grep '^login_p99_ms=' "$work/wrk.out" | cut -d= -f2)
  bad=$(grep '^login_non_3xx=' "$work/wrk.out" | cut -d= -f2)
  ratio=$(python3 -c "print(f'{$rps / $raw:.3f}')")
  echo "$ratio" >>"$work/ratios"
  echo "round $round: raw_hashes_per_sec=$raw login_rps=$rps p50_ms=$p50 p99_ms=$p99 non_3xx=$bad ratio=$ratio"
done
echo "median_ratio_login_to_raw_hash_rate=$(sort -n "$work/ratios" | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')  (target >= 0.85)"
