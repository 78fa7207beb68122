-- GET /ui/cliente (a client's card and history) of random seeded clients,
-- with the session cookie of BENCH_COOKIE (made by bin/bench).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = {["Cookie"] = os.getenv("BENCH_COOKIE") or "", ["Accept"] = "text/html"}

request = function()
  return wrk.format("GET", "/ui/cliente?mail=" .. common.random_mail(), headers)
end
done = common.done
