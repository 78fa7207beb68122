-- GET /cliente over random existing clients (c1..cN@bench.es, seeded by bin/bench).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local n = tonumber(os.getenv("BENCH_N") or "10000")
math.randomseed(os.time())

request = function()
  return wrk.format("GET", "/cliente?mail=c" .. math.random(1, n) .. "%40bench.es")
end
done = common.done
