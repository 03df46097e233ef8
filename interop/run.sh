#!/usr/bin/env bash
# Runs the independent relying party (openid-client) against a live Latchkey.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=target/debug/latchkey
[ -x "$bin" ] || cargo build -p latchkey --bin latchkey

work=$(mktemp -d)
server=""
trap 'if [ -n "$server" ]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export LATCHKEY_LISTEN="127.0.0.1:$port" LATCHKEY_DATA_DIR="$work/data" LATCHKEY_LOG=warn
export LATCHKEY_CONFIG="$work/latchkey.toml"
printf '[passwords]\nmemory_kib = 1024\niterations = 1\n' > "$LATCHKEY_CONFIG"
url="http://127.0.0.1:$port"

echo "interop-password-1" | "$bin" user create --email rp@example.com --verified --password-stdin >/dev/null
client=$("$bin" client create --name "openid-client" --json \
  --redirect-uri "http://127.0.0.1:9/callback" --post-logout-redirect-uri "http://127.0.0.1:9/signed-out")
"$bin" serve 2>"$work/serve.log" &
server=$!
for _ in $(seq 1 100); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.1; done

( cd interop/openid-client && { [ -d node_modules/openid-client ] || npm install --no-audit --no-fund --silent; } )
LATCHKEY_URL="$url" \
CLIENT_ID=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])') \
CLIENT_SECRET=$(echo "$client" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])') \
USER_EMAIL=rp@example.com USER_PASSWORD=interop-password-1 \
REDIRECT_URI="http://127.0.0.1:9/callback" POST_LOGOUT_URI="http://127.0.0.1:9/signed-out" \
  node --test interop/openid-client/rp.test.mjs || { echo "--- server log"; cat "$work/serve.log"; exit 1; }
