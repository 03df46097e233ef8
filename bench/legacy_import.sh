#!/usr/bin/env bash
# Importing a product's users: N generated records (bench/legacy_records.py, every hash format)
# into a fresh database with `latchkey client import`, on SQLite and, when PostgreSQL answers at
# 127.0.0.1:5432, on PostgreSQL; then the same file again (every record unchanged). Prints the
# wall time and rate of each. The goal: 1,000,000 records in under 60 s on SQLite.
#
#   bench/legacy_import.sh [records=1000000]
set -euo pipefail
cd "$(dirname "$0")/.."
N="${1:-1000000}"
cargo build --release --locked -p latchkey --bin latchkey >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python3 bench/legacy_records.py "$N" > "$work/users.jsonl"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs); $N records, $(du -h "$work/users.jsonl" | cut -f1)"

run() { # label -> one line of figures
  local label=$1 client
  client=$(target/release/latchkey client create --name Tracker --redirect-uri https://t.example/cb --json \
    | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
  for pass in first again; do
    local t0 t1 out
    t0=$(date +%s.%N)
    out=$(target/release/latchkey client import --client "$client" "$work/users.jsonl" --json)
    t1=$(date +%s.%N)
    python3 - "$label" "$pass" "$t0" "$t1" "$N" "$out" <<'PY'
import json, sys
label, kind, t0, t1, n, out = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), json.loads(sys.argv[6])
secs = t1 - t0
print(f"{label:<10} {kind:<6} {secs:7.1f} s  {n / secs:9.0f} records/s  imported={out['imported']} updated={out['updated']} unchanged={out['unchanged']} skipped={out['skipped']}")
PY
  done
}

export LATCHKEY_LOG=warn
LATCHKEY_DATA_DIR="$work/sqlite" run sqlite
if pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
  db="latchkey_bench_import_$$"
  psql -h 127.0.0.1 -U postgres -d test -qc "CREATE DATABASE $db" >/dev/null
  LATCHKEY_DATA_DIR="$work/pg" LATCHKEY_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$db" run postgres || true
  psql -h 127.0.0.1 -U postgres -d test -qc "DROP DATABASE $db" >/dev/null
fi
