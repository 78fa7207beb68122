-- GET /cliente over random existing clients (c1..cN@bench.es, seeded by bin/bench).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")

request = function()
  return wrk.format("GET", "/cliente?mail=" .. common.random_mail())
end
done = common.done
