-- POST /v1/session: password logins (argon2id) of BENCH_USER with
-- BENCH_PASSWORD.  nginx allows 10 a minute per client address
-- (conf/login.conf); bin/bench's stacks trust 127.0.0.1 as a proxy
-- (TRUSTED_PROXIES), so each request names another address in
-- X-Forwarded-For, as a router's many clients would, and what is measured
-- is the worker: its password checks (at most LOGIN_CONCURRENCY at once,
-- one more is a 503), the session and the audit row.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local body = string.format('{"username":"%s","password":"%s"}',
  os.getenv("BENCH_USER") or "bench", os.getenv("BENCH_PASSWORD") or "")
local i = 0

request = function()
  i = i + 1
  local addr = string.format("10.%d.%d.%d", math.floor(i / 65536) % 256, math.floor(i / 256) % 256, i % 256)
  return wrk.format("POST", "/v1/session",
    {["Content-Type"] = "application/json", ["X-Forwarded-For"] = addr}, body)
end
done = common.done
