#!/usr/bin/env bash
# Latchkey at a million accounts against itself at a thousand: the same hot paths, measured
# with the same load, first on a database of about 1,000 accounts, then after it has been
# filled to the target size (each account with a session, a grant and three audit events).
# Prints one line per path with p99 at both sizes and their ratio; the goal is p99 within 2x
# (docs/PERFORMANCE.md records the runs). Also the server's resident memory, idle and under load.
#
#   bench/scale.sh [sqlite|postgres] [accounts=1000000] [seconds per run=10]
#
# PostgreSQL: uses (and drops first) the database latchkey_scale at 127.0.0.1:5432 as user
# postgres. Needs wrk, curl, python3, and sqlite3 or psql.
set -euo pipefail
cd "$(dirname "$0")/.."
ENGINE="${1:-sqlite}"
ACCOUNTS="${2:-1000000}"
DURATION="${3:-10}"
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
cargo build --release --locked -p latchkey --bin latchkey >&2

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 300); do curl -s -o /dev/null "$1" && return 0; sleep 0.1; done; return 1; }
json_field() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
basic() { printf 'Basic %s' "$(printf '%s:%s' "$1" "$2" | base64 -w0)"; }
cookie_header() { awk -F'\t' 'NF==7 && ($1 !~ /^# / ) {printf "%s%s=%s", (n++ ? "; " : ""), $6, $7}' "$1"; }
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

port=$(free_port)
export LATCHKEY_LISTEN="127.0.0.1:$port" LATCHKEY_DATA_DIR="$work/lk" LATCHKEY_LOG=warn
case $ENGINE in
  sqlite) sql() { sqlite3 "$work/lk/latchkey.db"; } ;;
  postgres)
    psql -q -h 127.0.0.1 -U postgres -d test -c 'DROP DATABASE IF EXISTS latchkey_scale' -c 'CREATE DATABASE latchkey_scale'
    export LATCHKEY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/latchkey_scale
    sql() { psql -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -U postgres -d latchkey_scale; } ;;
  *) echo "engine: sqlite or postgres" >&2; exit 2 ;;
esac
lk=target/release/latchkey
$lk migrate --init >/dev/null
cc=$($lk client create --name reports --grant client_credentials --scope reports.read --json)
cc_auth=$(basic "$(echo "$cc" | json_field client_id)" "$(echo "$cc" | json_field client_secret)")
web=$($lk client create --name wiki --redirect-uri http://127.0.0.1:9/cb --json | json_field client_id)
echo 'bench-password-123' | $lk user create --email bench@example.com --verified --password-stdin >/dev/null
echo 'admin-password-123' | $lk user create --email admin@example.com --verified --site-admin --password-stdin >/dev/null

# Accounts numbered FROM..TO, each with a session, a grant for the wiki and three audit events;
# every 50th deactivated (every 5th of the first thousand, so that the status filter shows a full
# page at both sizes). The password hash is the bench account's, so any of them can log in.
fill() {
  local from=$1 to=$2 now; now=$(date +%s)
  local series="FROM generate_series($from, $to) AS g(n)" with=""
  if [ "$ENGINE" = sqlite ]; then
    with="WITH RECURSIVE g(n) AS (SELECT $from UNION ALL SELECT n + 1 FROM g WHERE n < $to)"
    series="FROM g"
  fi
  sql <<SQL
BEGIN;
$with INSERT INTO accounts (id, email, email_normalized, name, password_hash, email_verified_at,
    status, site_admin, created_at, updated_at, password_changed_at)
  SELECT 'acc_fill_' || n, 'user' || n || '@example.com', 'user' || n || '@example.com',
    'Person ' || n, (SELECT password_hash FROM accounts WHERE email_normalized = 'bench@example.com'),
    $now - n, CASE WHEN n % 50 = 0 OR (n <= 1000 AND n % 5 = 0) THEN 'deactivated' ELSE 'active' END, 0, $now - n, $now - n, $now - n
  $series;
$with INSERT INTO sessions (id, token_hash, account_id, user_agent, ip, created_at, last_seen_at, expires_at)
  SELECT 'ses_fill_' || n, 'th_fill_' || n, 'acc_fill_' || n, 'bench', '127.0.0.1', $now, $now, $now + 2592000
  $series;
$with INSERT INTO grants (id, client_id, account_id, session_id, scope, access_jti, auth_time, created_at)
  SELECT 'grt_fill_' || n, '$web', 'acc_fill_' || n, 'ses_fill_' || n, 'openid email', 'jti_fill_' || n, $now, $now
  $series;
$with INSERT INTO audit_events (at, event, outcome, actor_id, actor, target_id, target, ip, user_agent, details)
  SELECT $now - n, e.event, 'success', 'acc_fill_' || n, 'user' || n || '@example.com',
    'acc_fill_' || n, 'user' || n || '@example.com', '127.0.0.1', 'bench', '{}'
  $series CROSS JOIN (SELECT 'signup' AS event UNION ALL SELECT 'login.succeeded' UNION ALL SELECT 'logout') e;
COMMIT;
ANALYZE;
SQL
}

start() {
  $lk serve 2>>"$work/lk.log" & lk_pid=$!; pids+=("$lk_pid")
  wait_http "http://127.0.0.1:$port/readyz"
}
stop() { kill "$lk_pid"; wait "$lk_pid" 2>/dev/null || true; }
log_in() { # email password -> Cookie header
  local jar="$work/$1.jar" csrf
  csrf=$(curl -s -c "$jar" "http://127.0.0.1:$port/login" | sed -n 's/.*name="csrf_token" value="\([^"]*\)".*/\1/p' | head -1)
  curl -s -o /dev/null -b "$jar" -c "$jar" --data-urlencode "csrf_token=$csrf" \
    --data-urlencode "email=$1" --data-urlencode "password=$2" "http://127.0.0.1:$port/login"
  cookie_header "$jar"
}
expect() { # status url [cookie]
  local got; got=$(curl -s -o /dev/null -w '%{http_code}' ${3:+-H "Cookie: $3"} "$2")
  [ "$got" = "$1" ] || { echo "$2 answered $got, expected $1" >&2; exit 1; }
}
run() { # url method body auth cookie conns [script] -> "rps p99"
  BENCH_METHOD=$2 BENCH_BODY=$3 BENCH_AUTH=$4 BENCH_COOKIE=$5 \
    wrk -t2 -c"$6" -d"${DURATION}s" -s "${7:-bench/request.lua}" "$1" >"$work/wrk.out"
  if [ -n "${7:-}" ]; then
    echo "$(sed -n 's/^login_rps=//p' "$work/wrk.out") $(sed -n 's/^login_p99_ms=//p' "$work/wrk.out")"
  else
    sed -n 's/^rps=\([0-9]*\) p50_ms=[0-9.]* p99_ms=\([0-9.]*\) errors=0$/\1 \2/p' "$work/wrk.out"
  fi
}

challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM
hop="http://127.0.0.1:$port/oauth/authorize?client_id=$web&response_type=code&scope=openid&redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fcb&state=s&nonce=n&code_challenge=$challenge&code_challenge_method=S256"
measure() { # label -> lines "label path rps p99" in $work/results
  start
  local idle; sleep 2; idle=$(rss_kib "$lk_pid")
  local user admin token
  user=$(log_in bench@example.com bench-password-123)
  admin=$(log_in admin@example.com admin-password-123)
  token=$(curl -s -H "Authorization: $cc_auth" -d grant_type=client_credentials "http://127.0.0.1:$port/oauth/token" | json_field access_token)
  expect 303 "$hop" "$user"
  expect 200 "http://127.0.0.1:$port/admin/users?q=user1" "$admin"
  expect 200 "http://127.0.0.1:$port/admin/audit" "$admin"
  local peak=0 r
  for path in session_check sso_hop introspection console_search console_status audit_page audit_of_account login; do
    case $path in
      session_check) r=$(run "http://127.0.0.1:$port/account" GET "" "" "$user" 10) ;;
      sso_hop) r=$(run "$hop" GET "" "" "$user" 10) ;;
      introspection) r=$(run "http://127.0.0.1:$port/oauth/introspect" POST "token=$token" "$cc_auth" "" 10) ;;
      console_search) r=$(run "http://127.0.0.1:$port/admin/users?q=user1" GET "" "" "$admin" 10) ;;
      console_status) r=$(run "http://127.0.0.1:$port/admin/users?status=deactivated" GET "" "" "$admin" 10) ;;
      audit_page) r=$(run "http://127.0.0.1:$port/admin/audit" GET "" "" "$admin" 10) ;;
      audit_of_account) r=$(run "http://127.0.0.1:$port/admin/audit?person=user500%40example.com" GET "" "" "$admin" 10) ;;
      # Another account than the one whose pages are measured: each login adds a session.
      login) r=$(BENCH_EMAIL=user7@example.com run "http://127.0.0.1:$port/login" POST "" "" "" 4 bench/login.lua) ;;
    esac
    [ -n "$r" ] || { echo "$path: the run had errors:" >&2; cat "$work/wrk.out" >&2; exit 1; }
    local now_rss; now_rss=$(rss_kib "$lk_pid"); [ "$now_rss" -gt "$peak" ] && peak=$now_rss
    echo "$1 $path $r" >>"$work/results"
  done
  echo "$1 rss $idle $peak" >>"$work/results"
  stop
}

fill 1 1000
measure small
echo "filling to $ACCOUNTS accounts ($ENGINE)..." >&2
started=$(date +%s)
fill 1001 "$ACCOUNTS"
echo "filled in $(( $(date +%s) - started )) s" >&2
measure large

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $ENGINE; ${DURATION}s per run; wrk -t2, 10 connections (login: 4)"
python3 - "$work/results" "$ACCOUNTS" <<'PY'
import sys
rows = {}
for line in open(sys.argv[1]):
    size, path, a, b = line.split()
    rows.setdefault(path, {})[size] = (float(a), float(b))
n = int(sys.argv[2])
print(f"{'path':<18} | {'1,000: req/s':>12} {'p99 ms':>8} | {f'{n:,}: req/s':>16} {'p99 ms':>8} | p99 ratio")
for path, r in rows.items():
    if path == "rss":
        continue
    (s_rps, s_p99), (l_rps, l_p99) = r["small"], r["large"]
    print(f"{path:<18} | {s_rps:>12,.0f} {s_p99:>8.2f} | {l_rps:>16,.0f} {l_p99:>8.2f} | {l_p99 / s_p99:.2f}x")
for size in ("small", "large"):
    idle, peak = rows["rss"][size]
    print(f"RSS at {'1,000' if size == 'small' else f'{n:,}'} accounts: idle {idle / 1024:.1f} MiB, under load {peak / 1024:.1f} MiB")
PY
