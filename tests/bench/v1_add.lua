-- POST /v1/clientes with a JSON record and mails never used before
-- (v<BENCH_PREFIX>-<i>@bench.es), with the API token.  Every mail answered
-- 201 is appended to BENCH_ACKED, one a line, so bin/bench can check that
-- each acknowledged write is stored; "ACKED n" follows the result line.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local prefix = os.getenv("BENCH_PREFIX") or tostring(os.time())
local headers = common.bearer({["Content-Type"] = "application/json"})
local i = 0
acked = {}

setup = common.setup
request = function()
  i = i + 1
  return wrk.format("POST", "/v1/clientes", headers,
    '{"mail":"v' .. prefix .. "-" .. i .. '@bench.es","nombre":"Bench","apellidos":"Mark",' ..
    '"fecha_nacimiento":"1990-01-01","direccion":"Calle Mayor 1"}')
end
response = function(status, _, body)
  if status == 201 then
    local mail = body:match('"mail":"(v[^"]*)"')
    if mail then acked[#acked + 1] = mail end
  end
end
done = function(summary, latency, requests)
  common.done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(common.threads) do
    local a = t:get("acked")
    n = n + #a
    common.append_lines(os.getenv("BENCH_ACKED"), a)
  end
  io.write(string.format("ACKED %d\n", n))
end
