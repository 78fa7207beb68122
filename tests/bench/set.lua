-- PUT /setNombre on random existing clients.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local n = tonumber(os.getenv("BENCH_N") or "10000")
math.randomseed(os.time())
local i = 0

request = function()
  i = i + 1
  return wrk.format("PUT", "/setNombre?mail=c" .. math.random(1, n) .. "%40bench.es&nombre=N" .. i)
end
done = common.done
