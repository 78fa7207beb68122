-- GET /v1/clientes/{mail} of random seeded clients, with the API token.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = common.bearer()

request = function()
  return wrk.format("GET", "/v1/clientes/" .. common.mail_enc(common.random_k()), headers)
end
done = common.done
