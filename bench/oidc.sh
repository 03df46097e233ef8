#!/usr/bin/env bash
# Latchkey's OpenID provider hot paths against oidc-provider (npm, a certified OpenID provider)
# in the same run, same machine, same load tool (wrk) and concurrency. Prints one line per
# (endpoint, connections) with both sides and the ratio; docs/PERFORMANCE.md records them.
#
#   bench/oidc.sh [seconds per run=10]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -p latchkey --bin latchkey >&2
( cd bench/oidc-provider && { [ -d node_modules/oidc-provider ] || npm install --no-audit --no-fund --silent; } )

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
ticks() { awk '{print $14+$15}' "/proc/$1/stat"; }
machine() { awk '/^cpu /{print $2+$3+$4+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }

# Latchkey, embedded defaults (SQLite), one client_credentials product.
lk_port=$(free_port)
export LATCHKEY_LISTEN="127.0.0.1:$lk_port" LATCHKEY_DATA_DIR="$work/lk" LATCHKEY_LOG=warn
lk=$(target/release/latchkey client create --name bench --grant client_credentials --scope reports.read --json)
lk_auth=$(basic "$(echo "$lk" | json_field client_id)" "$(echo "$lk" | json_field client_secret)")
lk_web=$(target/release/latchkey client create --name web --redirect-uri http://127.0.0.1:9/cb --json | json_field client_id)
target/release/latchkey serve 2>"$work/lk.log" & lk_pid=$!; pids+=("$lk_pid")
wait_http "http://127.0.0.1:$lk_port/healthz"
lk_token=$(curl -s -H "Authorization: $lk_auth" -d grant_type=client_credentials "http://127.0.0.1:$lk_port/oauth/token" | json_field access_token)

# The SSO hop: a product's authorization request from a browser that already holds a session
# (the second product a person opens). Both sides answer 303 with a fresh code each time.
challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
hop_query="response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s&nonce=n&code_challenge=$challenge&code_challenge_method=S256"
cookie_header() { awk -F'\t' 'NF==7 && ($1 !~ /^# / ) {printf "%s%s=%s", (n++ ? "; " : ""), $6, $7}' "$1"; }
echo 'bench-password-1234' | target/release/latchkey user create --email bench@example.com --verified --password-stdin >/dev/null
lk_jar="$work/lk.jar"
csrf=$(curl -s -c "$lk_jar" "http://127.0.0.1:$lk_port/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
curl -s -o /dev/null -b "$lk_jar" -c "$lk_jar" --data-urlencode "csrf_token=$csrf" \
  --data-urlencode email=bench@example.com --data-urlencode password=bench-password-1234 "http://127.0.0.1:$lk_port/login"
lk_cookie=$(cookie_header "$lk_jar")
lk_hop="http://127.0.0.1:$lk_port/oauth/authorize?client_id=$lk_web&$hop_query"
curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $lk_cookie" "$lk_hop" | grep -q '^http://127.0.0.1:9/cb?code=' \
  || { echo "Latchkey's SSO hop did not answer with a code" >&2; exit 1; }

# oidc-provider in production mode: JWT (ES256) access tokens for the token runs, opaque
# tokens for introspection (it only introspects tokens it stores).
op_auth=$(basic bench bench-secret-bench-secret-bench-secret-1234)
start_peer() {
  local port; port=$(free_port)
  (cd bench/oidc-provider && PORT=$port FORMAT=$1 NODE_ENV=production exec node server.mjs >/dev/null 2>&1) & pids+=("$!")
  wait_http "http://127.0.0.1:$port/.well-known/openid-configuration"
  echo "$port $!"
}
read -r jwt_port jwt_pid < <(start_peer jwt)
read -r opq_port opq_pid < <(start_peer opaque)
op_token=$(curl -s -H "Authorization: $op_auth" -d grant_type=client_credentials -d scope=reports.read "http://127.0.0.1:$opq_port/token" | json_field access_token)
op_jar="$work/op.jar"; op_hop="http://127.0.0.1:$jwt_port/auth?client_id=web&$hop_query"; url=$op_hop
for _ in 1 2 3 4 5; do # sign the bench account in through the peer's interaction once
  url=$(curl -s -o /dev/null -w '%{redirect_url}' -b "$op_jar" -c "$op_jar" "$url")
  case $url in http://127.0.0.1:9/*|"") break ;; esac
done
op_cookie=$(cookie_header "$op_jar")
curl -s -o /dev/null -w '%{redirect_url}' -H "Cookie: $op_cookie" "$op_hop" | grep -q '^http://127.0.0.1:9/cb?code=' \
  || { echo "oidc-provider's SSO hop did not answer with a code" >&2; exit 1; }

run() { # name pid url method body auth conns [cookie] -> "rps p50 p99 errors other_cpu%"
  local name=$1 pid=$2 url=$3 method=$4 body=$5 auth=$6 conns=$7 cookie=${8:-}
  read -r busy0 total0 < <(machine); local s0; s0=$(ticks "$pid")
  BENCH_METHOD=$method BENCH_BODY=$body BENCH_AUTH=$auth BENCH_COOKIE=$cookie \
    wrk -t2 -c"$conns" -d"${DURATION}s" -s bench/request.lua "$url" >"$work/wrk.out" & local w=$!
  local w0; w0=$(ticks "$w" 2>/dev/null || echo 0); local wl=$w0
  while kill -0 "$w" 2>/dev/null; do wl=$(ticks "$w" 2>/dev/null || echo "$wl"); sleep 0.5; done
  wait "$w"
  read -r busy1 total1 < <(machine); local s1; s1=$(ticks "$pid")
  local other=$(( (busy1 - busy0) - (s1 - s0) - (wl - w0) ))
  local pct; pct=$(python3 -c "print(f'{100 * max(0, $other) / max(1, $total1 - $total0):.0f}')")
  echo "$(sed -n 's/^rps=\([0-9]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) errors=\([0-9]*\)/\1 \2 \3 \4/p' "$work/wrk.out") $pct"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); ${DURATION}s per run; wrk -t2"
printf '%-24s %5s | %9s %8s %8s %4s %6s | %9s %8s %8s %4s %6s | %6s\n' endpoint conns \
  lk_rps lk_p50 lk_p99 err other% op_rps op_p50 op_p99 err other% ratio
for conns in 10 100; do
  for case in token introspection discovery sso_hop; do
    case $case in
      token)
        lk=$(run lk "$lk_pid" "http://127.0.0.1:$lk_port/oauth/token" POST "grant_type=client_credentials" "$lk_auth" "$conns")
        op=$(run op "$jwt_pid" "http://127.0.0.1:$jwt_port/token" POST "grant_type=client_credentials&scope=reports.read" "$op_auth" "$conns") ;;
      introspection)
        lk=$(run lk "$lk_pid" "http://127.0.0.1:$lk_port/oauth/introspect" POST "token=$lk_token" "$lk_auth" "$conns")
        op=$(run op "$opq_pid" "http://127.0.0.1:$opq_port/token/introspection" POST "token=$op_token" "$op_auth" "$conns") ;;
      discovery)
        lk=$(run lk "$lk_pid" "http://127.0.0.1:$lk_port/.well-known/openid-configuration" GET "" "" "$conns")
        op=$(run op "$jwt_pid" "http://127.0.0.1:$jwt_port/.well-known/openid-configuration" GET "" "" "$conns") ;;
      sso_hop)
        lk=$(run lk "$lk_pid" "$lk_hop" GET "" "" "$conns" "$lk_cookie")
        op=$(run op "$jwt_pid" "$op_hop" GET "" "" "$conns" "$op_cookie") ;;
    esac
    read -r a1 a2 a3 a4 a5 <<<"$lk"; read -r b1 b2 b3 b4 b5 <<<"$op"
    ratio=$(python3 -c "print(f'{$a1 / max(1, $b1):.1f}x')")
    printf '%-24s %5s | %9s %8s %8s %4s %6s | %9s %8s %8s %4s %6s | %6s\n' "$case" "$conns" \
      "$a1" "$a2" "$a3" "$a4" "$a5%" "$b1" "$b2" "$b3" "$b4" "$b5%" "$ratio"
  done
done
