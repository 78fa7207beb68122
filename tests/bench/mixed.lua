-- 90 % GET /cliente, 10 % PUT /setDireccion (the old routes) on random
-- seeded clients, with the API token (an editor's).  The writes leave the
-- clients of v1_patch.lua alone: their ETags stay the ones it knows.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = common.bearer()
local i = 0

request = function()
  i = i + 1
  if i % 10 == 0 then
    return wrk.format("PUT", "/setDireccion?mail=" .. common.mail_enc(common.random_k_unpatched()) ..
      "&direccion=Calle+" .. i, headers)
  end
  return wrk.format("GET", "/cliente?mail=" .. common.mail_enc(common.random_k()), headers)
end
done = common.done
