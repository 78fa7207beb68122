-- bin/soak's load, with the API token (an editor's) on every request; one
-- Lua state per wrk thread.  Of every 20 requests: 14 GET /cliente, 1 GET
-- /v1/clientes/{mail}, 1 page of /v1/clientes, 1 PUT /setDireccion,
-- 1 PUT /setNombre, 2 adds (POST /aniadir, mails never used before) - one
-- of which is a DELETE of an add already acknowledged once 200 are
-- waiting, so the store stays about the same size -; and the whole list
-- (GET /clientes) every 5 000 requests.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local prefix = os.getenv("SOAK_PREFIX") or tostring(os.time())
local next_id = 1

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

local i = 0
local acked, head, tail = {}, 1, 0  -- adds answered 200, oldest first

request = function()
  i = i + 1
  local k = i % 20
  if i % 5000 == 0 then
    return wrk.format("GET", "/clientes", common.bearer())
  end
  if k == 1 and tail - head >= 200 then
    local mail = acked[head]
    acked[head] = nil
    head = head + 1
    return wrk.format("DELETE", "/eliminar?mail=" .. mail, common.bearer())
  end
  if k == 0 or k == 1 then
    -- the answer echoes X-Request-Id: response() learns which add succeeded
    local id = "s" .. prefix .. "-" .. tid .. "-" .. i
    return wrk.format("POST", "/aniadir?nombre=Soak&apellidos=Prueba&mail=" .. id ..
      "%40soak.es&fecha_nacimiento=1%2F1%2F1990&direccion=Calle+" .. i,
      common.bearer({["X-Request-Id"] = "add-" .. id}))
  end
  local n = common.random_k()
  local mail = common.mail_enc(n)
  if k == 2 then
    return wrk.format("PUT", "/setDireccion?mail=" .. mail .. "&direccion=Calle+" .. i, common.bearer())
  elseif k == 3 then
    return wrk.format("PUT", "/setNombre?mail=" .. mail .. "&nombre=N" .. i, common.bearer())
  elseif k == 4 then
    return wrk.format("GET", "/v1/clientes/" .. mail, common.bearer())
  elseif k == 5 then
    return wrk.format("GET", "/v1/clientes?limit=20&after=" .. common.cursor_after(n), common.bearer())
  end
  return wrk.format("GET", "/cliente?mail=" .. mail, common.bearer())
end

response = function(status, headers, body)
  local rid = headers["X-Request-Id"]
  if status == 200 and rid and rid:sub(1, 4) == "add-" then
    tail = tail + 1
    acked[tail] = rid:sub(5) .. "%40soak.es"
  end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d rps=%.0f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f connect=%d read=%d write=%d timeout=%d non2xx=%d\n",
    summary.requests, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, latency.max / 1000,
    e.connect, e.read, e.write, e.timeout, e.status))
end
