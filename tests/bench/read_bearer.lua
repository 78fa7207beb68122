-- GET /cliente over random existing clients, with the API token of
-- BENCH_TOKEN (a reader's, made by bin/bench): what authentication costs.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = {["Authorization"] = "Bearer " .. (os.getenv("BENCH_TOKEN") or "")}

request = function()
  return wrk.format("GET", "/cliente?mail=" .. common.random_mail(), headers)
end
done = common.done
