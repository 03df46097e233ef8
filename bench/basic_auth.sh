#!/usr/bin/env bash
# Basic-auth verification with an API token (POST /oauth/basic-auth/verify), the call products
# make on every REST request a bot sends, against introspection of an access token on the same
# server in the same run (same load tool, same connections). Prints rps, p50, p99 and the
# ratio; docs/PERFORMANCE.md records them. The goal: >= 20,000 verifications/s with p99 under
# 5 ms at 64 connections, and >= 0.6x introspection.
#
#   bench/basic_auth.sh [seconds per run=10] [connections=64]
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION="${1:-10}"
CONNS="${2:-64}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -p latchkey --bin latchkey >&2

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
urlencode() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }

port=$(free_port)
export LATCHKEY_LISTEN="127.0.0.1:$port" LATCHKEY_DATA_DIR="$work/lk" LATCHKEY_LOG=warn
product=$(target/release/latchkey client create --name bench --grant client_credentials --scope reports.read --json)
auth=$(basic "$(echo "$product" | json_field client_id)" "$(echo "$product" | json_field client_secret)")
bot=$(target/release/latchkey bot create --name "Bench bot" --json | json_field email)
token=$(target/release/latchkey api-token create --email "$bot" --name bench --json | json_field token)
target/release/latchkey serve 2>"$work/lk.log" & pid=$!; pids+=("$pid")
wait_http "http://127.0.0.1:$port/healthz"
access=$(curl -s -H "Authorization: $auth" -d grant_type=client_credentials "http://127.0.0.1:$port/oauth/token" | json_field access_token)

verify_body="username=$(urlencode "$bot")&password=$token"
check() { # the answers are what the runs measure, not errors
  local answer; answer=$(curl -s -H "Authorization: $auth" --data "$2" "http://127.0.0.1:$port$1")
  echo "$answer" | grep -q '"active":true' || { echo "$1 answered $answer" >&2; exit 1; }
}
check /oauth/basic-auth/verify "$verify_body"
check /oauth/introspect "token=$access"

run() { # url body -> "rps p50 p99 errors"
  BENCH_METHOD=POST BENCH_BODY=$2 BENCH_AUTH=$auth BENCH_COOKIE= \
    wrk -t2 -c"$CONNS" -d"${DURATION}s" -s bench/request.lua "http://127.0.0.1:$port$1" >"$work/wrk.out"
  sed -n 's/^rps=\([0-9]*\) p50_ms=\([0-9.]*\) p99_ms=\([0-9.]*\) errors=\([0-9]*\)/\1 \2 \3 \4/p' "$work/wrk.out"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); ${DURATION}s per run; wrk -t2 -c$CONNS"
printf '%-28s %9s %8s %8s %5s\n' case rps p50_ms p99_ms err
read -r v1 v2 v3 v4 < <(run /oauth/basic-auth/verify "$verify_body")
printf '%-28s %9s %8s %8s %5s\n' "basic-auth verify (token)" "$v1" "$v2" "$v3" "$v4"
read -r i1 i2 i3 i4 < <(run /oauth/introspect "token=$access")
printf '%-28s %9s %8s %8s %5s\n' "introspection (access)" "$i1" "$i2" "$i3" "$i4"
check /oauth/basic-auth/verify "$verify_body"
python3 - "$v1" "$v3" "$i1" <<'PY'
import sys
v, p99, i = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
ratio = v / max(1.0, i)
print(f"verify/introspection: {ratio:.2f}x   goal: >= 20000 rps ({'met' if v >= 20000 else 'NOT met'}), "
      f"p99 < 5 ms ({'met' if p99 < 5 else 'NOT met'}), >= 0.6x ({'met' if ratio >= 0.6 else 'NOT met'})")
PY
