-- POST /aniadir with mails never used before (a per-run prefix and a counter).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local prefix = os.getenv("BENCH_PREFIX") or tostring(os.time())
local i = 0

request = function()
  i = i + 1
  return wrk.format("POST", "/aniadir?nombre=Bench&apellidos=Mark&mail=n" .. prefix .. "-" .. i ..
    "%40bench.es&fecha_nacimiento=1%2F1%2F1990&direccion=Calle+Mayor+1")
end
local threads = {}
setup = function(thread) table.insert(threads, thread) end
acked = 0
response = function(status) if status == 200 then acked = acked + 1 end end

done = function(summary, latency, requests)
  common.done(summary, latency, requests)
  local n = 0
  for _, t in ipairs(threads) do n = n + t:get("acked") end
  io.write(string.format("ACKED %d\n", n))
end
