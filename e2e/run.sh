#!/usr/bin/env bash
# Browser journeys: starts `latchkey demo` (Latchkey, Tracker, Wiki) on free ports with a temp
# data dir, then runs e2e/journeys/*.test.mjs in Debian's headless Chromium through
# playwright-core. Installs Chromium (apt) and the npm packages when missing; never downloads a
# browser. Screenshots of every step land in e2e/screenshots/. Usage: e2e/run.sh [journey …]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked -q -p latchkey --bin latchkey
command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium; }
( cd e2e && { [ -d node_modules/playwright-core ] && [ -d node_modules/dns2 ] && [ -d node_modules/axe-core ] || npm ci --no-audit --no-fund --silent; } )

work=$(mktemp -d)
pid=""
trap 'if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
# Four free consecutive ports: Latchkey, the two demo products, and (UDP) the DNS server the
# organization journey runs for domain verification.
port=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    base = random.randint(20000, 60000)
    try:
        socks = []
        for p in range(base, base + 3):
            s = socket.socket(); s.bind(("127.0.0.1", p)); socks.append(s)
        s = socket.socket(type=socket.SOCK_DGRAM); s.bind(("127.0.0.1", base + 3)); socks.append(s)
        print(base); break
    except OSError:
        pass
    finally:
        for s in socks: s.close()
PY
)
# A host name, not an IP: browsers refuse WebAuthn on IP origins.
export LATCHKEY_LISTEN="127.0.0.1:$port" LATCHKEY_PUBLIC_URL="http://localhost:$port"
export LATCHKEY_DATA_DIR="$work/data" LATCHKEY_LOG=warn
export LATCHKEY_CONFIG="$work/latchkey.toml" LATCHKEY_DNS_SERVER="127.0.0.1:$((port + 3))"
printf '[passwords]\nmemory_kib = 1024\niterations = 1\n' > "$LATCHKEY_CONFIG"
target/debug/latchkey demo 2>"$work/demo.log" &
pid=$!
for p in "$port" $((port + 1)) $((port + 2)); do
  for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$p/" && break; sleep 0.1; done
done

export E2E_LATCHKEY="$LATCHKEY_PUBLIC_URL" E2E_TRACKER="http://127.0.0.1:$((port + 1))"
export E2E_WIKI="http://127.0.0.1:$((port + 2))" E2E_OUTBOX="$work/data/outbox"
export E2E_SCREENSHOTS="$PWD/e2e/screenshots"
export E2E_DNS_PORT=$((port + 3)) E2E_LATCHKEY_BIN="$PWD/target/debug/latchkey"
rm -rf "$E2E_SCREENSHOTS"
# Arguments pick journeys (e2e/journeys/org_console.test.mjs …); none runs them all.
[ $# -gt 0 ] || set -- e2e/journeys/*.test.mjs
node --test --test-concurrency=1 --test-timeout=300000 "$@" || { echo "--- latchkey demo log"; cat "$work/demo.log"; exit 1; }
