-- 90 % GET /cliente on random clients, 10 % PUT /setDireccion.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local i = 0

request = function()
  i = i + 1
  local mail = common.random_mail()
  if i % 10 == 0 then
    return wrk.format("PUT", "/setDireccion?mail=" .. mail .. "&direccion=Calle+" .. i)
  end
  return wrk.format("GET", "/cliente?mail=" .. mail)
end
done = common.done
