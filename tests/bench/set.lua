-- PUT /setNombre on random existing clients.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local i = 0

request = function()
  i = i + 1
  return wrk.format("PUT", "/setNombre?mail=" .. common.random_mail() .. "&nombre=N" .. i)
end
done = common.done
