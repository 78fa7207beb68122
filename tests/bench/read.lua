-- GET /cliente (the old route) of random seeded clients, with the API token.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = common.bearer()

request = function()
  return wrk.format("GET", "/cliente?mail=" .. common.mail_enc(common.random_k()), headers)
end
done = common.done
