-- wrk script: POST /login with a valid double-submit CSRF pair and the bench account.
-- Every request is a full, successful password login (argon2id verify + a new session).
local token = "benchbenchbenchbenchbenchbenchbenchbench123"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = "latchkey_csrf=" .. token
local email = (os.getenv("BENCH_EMAIL") or "bench@example.com"):gsub("@", "%%40")
wrk.body = "csrf_token=" .. token .. "&email=" .. email .. "&password=bench-password-123"

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  io.write(string.format("login_rps=%.1f\n", summary.requests / (summary.duration / 1e6)))
  io.write(string.format("login_p50_ms=%.1f\n", latency:percentile(50) / 1000))
  io.write(string.format("login_p99_ms=%.1f\n", latency:percentile(99) / 1000))
  io.write(string.format("login_non_3xx=%d\n", summary.errors.status))
end
