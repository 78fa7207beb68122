-- 90 % GET /cliente, 10 % PUT /setDireccion (the old routes) on random
-- seeded clients, with the API token (an editor's).
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = common.bearer()
local i = 0

request = function()
  i = i + 1
  local mail = common.mail_enc(common.random_k())
  if i % 10 == 0 then
    return wrk.format("PUT", "/setDireccion?mail=" .. mail .. "&direccion=Calle+" .. i, headers)
  end
  return wrk.format("GET", "/cliente?mail=" .. mail, headers)
end
done = common.done
