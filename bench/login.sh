#!/usr/bin/env bash
# Login throughput of a real `latchkey serve` (release build, SQLite, OWASP argon2id) against
# the raw argon2id rate of the same machine, measured in the same run. Prints the figures and
# the ratio; docs/PERFORMANCE.md records them. Not part of the tests.
#
#   bench/login.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_RUN="${1:-20}"
CONNECTIONS="${2:-8}"

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
echo "== raw argon2id (m=19456 t=2 p=1), ${SECONDS_PER_RUN}s per thread count"
raw=$(target/release/examples/argon2_rate "$SECONDS_PER_RUN" 1 "$(nproc)")
echo "$raw"
raw_all=$(echo "$raw" | tail -n1 | sed 's/.*rate=//')

echo "== POST /login, ${CONNECTIONS} connections, ${SECONDS_PER_RUN}s (wrk)"
wrk -t1 -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" -s bench/login.lua "http://127.0.0.1:$port/login" >"$work/wrk.out"
grep -E '^login_' "$work/wrk.out"
rps=$(grep '^login_rps=' "$work/wrk.out" | cut -d= -f2)
python3 - "$rps" "$raw_all" <<'PY'
import sys
rps, raw = float(sys.argv[1]), float(sys.argv[2])
print(f"ratio_login_to_raw_hash_rate={rps / raw:.3f}  (target >= 0.85)")
PY
