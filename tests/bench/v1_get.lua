-- GET /v1/clientes/{mail} over random existing clients (c1..cN@bench.es).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

request = function()
  return wrk.format("GET", "/v1/clientes/" .. common.random_mail())
end
done = common.done
