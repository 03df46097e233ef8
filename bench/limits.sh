#!/usr/bin/env bash
# Each hot path as a fraction of the machine's own limit for it, measured in the same run:
#   token endpoint (client_credentials)  against raw ES256 signing (aws-lc-rs, key parsed once)
#   introspection of an access token      against raw ES256 verification of that token
#   discovery                             against a bare axum handler returning the same bytes
#   password login                        against raw argon2id (same crate and parameters)
# Rounds are interleaved (endpoint, then its limit) so a noisy neighbour hits both alike; the
# median fraction per path is printed last. docs/PERFORMANCE.md records the runs.
#
#   bench/limits.sh [seconds per run=5] [rounds=3] [connections=10]
#
# The load generator (wrk, two threads) shares the cores with the server, the raw runs have
# them to themselves: the fractions are a floor.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-5}"
ROUNDS="${2:-3}"
CONNS="${3:-10}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -p latchkey --bin latchkey >&2
cargo build --release --locked -p latchkey-testkit --example limits --example argon2_rate >&2

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
limits=target/release/examples/limits
threads=$(nproc)

port=$(free_port)
cat >"$work/latchkey.toml" <<TOML
listen = "127.0.0.1:$port"
data_dir = "$work/lk"
log = "warn"
[throttle]
account_failures = 1000000
ip_failures = 1000000
TOML
export LATCHKEY_CONFIG="$work/latchkey.toml"
lk=target/release/latchkey
cc=$($lk client create --name bench --grant client_credentials --scope reports.read --json)
auth=$(basic "$(echo "$cc" | json_field client_id)" "$(echo "$cc" | json_field client_secret)")
echo 'bench-password-123' | $lk user create --email bench@example.com --verified --password-stdin >/dev/null
$lk serve 2>"$work/lk.log" & pids+=("$!")
base="http://127.0.0.1:$port"
wait_http "$base/healthz"
token=$(curl -s -H "Authorization: $auth" -d grant_type=client_credentials "$base/oauth/token" | json_field access_token)
# The public key the token was signed with, from the JWKS.
read -r x y < <(curl -s "$base/oauth/jwks" | python3 -c "
import json, sys, base64
kid = json.loads(base64.urlsafe_b64decode('$token'.split('.')[0] + '=='))['kid']
key = next(k for k in json.load(sys.stdin)['keys'] if k['kid'] == kid)
print(key['x'], key['y'])")
curl -s "$base/.well-known/openid-configuration" >"$work/discovery.json"
bare_port=$(free_port)
$limits bare "$bare_port" "$work/discovery.json" & pids+=("$!")
wait_http "http://127.0.0.1:$bare_port/"
cmp -s <(curl -s "http://127.0.0.1:$bare_port/") "$work/discovery.json" || { echo "the bare handler answers other bytes" >&2; exit 1; }

wrk_rps() { # url method body auth conns -> req/s (exits if any request failed)
  BENCH_METHOD=$2 BENCH_BODY=$3 BENCH_AUTH=$4 BENCH_COOKIE="" \
    wrk -t2 -c"$5" -d"${DURATION}s" -s bench/request.lua "$1" >"$work/wrk.out"
  sed -n 's/^rps=\([0-9]*\) .* errors=0$/\1/p' "$work/wrk.out" | grep . || { cat "$work/wrk.out" >&2; exit 1; }
}
login_rps() {
  BENCH_EMAIL=bench@example.com BENCH_PASSWORD=bench-password-123 \
    wrk -t1 -c8 -d"${DURATION}s" -s bench/login.lua "$base/login" >"$work/wrk.out"
  [ "$(sed -n 's/^login_non_3xx=//p' "$work/wrk.out")" = 0 ] || { cat "$work/wrk.out" >&2; exit 1; }
  sed -n 's/^login_rps=//p' "$work/wrk.out"
}
raw() { "$limits" "$@" | sed 's/.*rate=//'; }

echo "machine: $threads cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); ${DURATION}s per run, $ROUNDS rounds; wrk -t2 -c$CONNS (login: -t1 -c8)"
: >"$work/fractions"
for round in $(seq 1 "$ROUNDS"); do
  t=$(wrk_rps "$base/oauth/token" POST "grant_type=client_credentials" "$auth" "$CONNS")
  s=$(raw sign "$DURATION" "$threads" "$token")
  i=$(wrk_rps "$base/oauth/introspect" POST "token=$token" "$auth" "$CONNS")
  v=$(raw verify "$DURATION" "$threads" "$token" "$x" "$y")
  d=$(wrk_rps "$base/.well-known/openid-configuration" GET "" "" "$CONNS")
  b=$(wrk_rps "http://127.0.0.1:$bare_port/.well-known/openid-configuration" GET "" "" "$CONNS")
  l=$(login_rps)
  a=$(target/release/examples/argon2_rate "$DURATION" "$threads" | sed 's/.*rate=//')
  for row in "token $t $s" "introspection $i $v" "discovery $d $b" "login $l $a"; do
    set -- $row
    f=$(python3 -c "print(f'{$2 / $3:.3f}')")
    echo "$1 $f" >>"$work/fractions"
    printf 'round %s  %-13s endpoint %9.1f/s  limit %9.1f/s  fraction %s\n' "$round" "$1" "$2" "$3" "$f"
  done
done
python3 - "$work/fractions" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    path, f = line.split()
    rows.setdefault(path, []).append(float(f))
goals = {"token": 0.50, "introspection": 0.50, "discovery": 0.70, "login": 0.95}
for path, fs in rows.items():
    m = statistics.median(fs)
    print(f"median {path:<13} {m:.3f}  (goal >= {goals[path]:.2f}: {'met' if m >= goals[path] else 'NOT met'})")
PY
