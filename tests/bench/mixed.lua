-- 90 % GET /cliente on random clients, 10 % PUT /setDireccion.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local n = tonumber(os.getenv("BENCH_N") or "10000")
math.randomseed(os.time())
local i = 0

request = function()
  i = i + 1
  local mail = "c" .. math.random(1, n) .. "%40bench.es"
  if i % 10 == 0 then
    return wrk.format("PUT", "/setDireccion?mail=" .. mail .. "&direccion=Calle+" .. i)
  end
  return wrk.format("GET", "/cliente?mail=" .. mail)
end
done = common.done
