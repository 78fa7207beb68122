-- POST /v1/clientes with a JSON record and mails never used before.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local prefix = os.getenv("BENCH_PREFIX") or tostring(os.time())
local i = 0

request = function()
  i = i + 1
  return wrk.format("POST", "/v1/clientes", {["Content-Type"] = "application/json"},
    '{"mail":"v' .. prefix .. "-" .. i .. '@bench.es","nombre":"Bench","apellidos":"Mark",' ..
    '"fecha_nacimiento":"1990-01-01","direccion":"Calle Mayor 1"}')
end
done = common.done
