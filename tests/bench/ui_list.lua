-- GET /ui/clientes at a random page of the list (in mail order), as a
-- signed-in person's browser asks for it: the session cookie of
-- BENCH_COOKIE (made by bin/bench) and the keyset cursor of a random seeded
-- client (c1..cN@bench.es; the /v1 API's layout, cgi/v1.c's
-- v1_cursor_encode: "c1", sort, direction, value, NUL, mail key,
-- base64url).  A page costs the same wherever it is.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local n = tonumber(os.getenv("BENCH_N") or "10000")
local headers = {["Cookie"] = os.getenv("BENCH_COOKIE") or "", ["Accept"] = "text/html"}
local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

local function base64url(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local k = b and (c and 4 or 3) or 2
    for j = 1, k do
      local idx = math.floor(v / 2 ^ (6 * (4 - j))) % 64
      out[#out + 1] = b64:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

request = function()
  local cursor = base64url("c10+\0c" .. math.random(1, n) .. "@bench.es")
  return wrk.format("GET", "/ui/clientes?orden=mail&despues=" .. cursor, headers)
end
done = common.done
