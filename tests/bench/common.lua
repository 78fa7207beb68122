-- Shared by the bin/bench scenarios: one machine-readable result line.
local M = {}

local n = tonumber(os.getenv("BENCH_N") or "10000")
math.randomseed(os.time())

-- The percent-encoded mail of a random seeded client (c1..cN@bench.es).
function M.random_mail()
  return "c" .. math.random(1, n) .. "%40bench.es"
end

function M.done(summary, latency, requests)
  local s = summary
  local errors = s.errors.connect + s.errors.read + s.errors.write + s.errors.status + s.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d requests=%d non2xx=%d\n",
    s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, s.requests, s.errors.status))
end

return M
