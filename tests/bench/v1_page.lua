-- GET /v1/clientes: a page of 20 in mail order from a random point of the
-- list: the cursor of a random seeded client (bench knows the cursor's
-- layout, cgi/v1.c's v1_cursor_encode: "c1", sort, direction, value, NUL,
-- mail key, base64url), so the cost of a page far into the list shows.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local n = tonumber(os.getenv("BENCH_N") or "10000")
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
  return wrk.format("GET", "/v1/clientes?limit=20&after=" .. cursor)
end
done = common.done
