-- GET /ui/clientes at a random page of the list (ordered by name), as a
-- signed-in person's browser asks for it: the session cookie of
-- BENCH_COOKIE (made by bin/bench), a keyset cursor into the seeded clients
-- (c1..cN@bench.es, named Nombre1..NombreN).  A page costs the same
-- wherever it is.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local n = tonumber(os.getenv("BENCH_N") or "10000")
local headers = {["Cookie"] = os.getenv("BENCH_COOKIE") or "", ["Accept"] = "text/html"}

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

-- URL-safe base64 without padding (the cursor's encoding, cgi/ui.c).
local function b64(s)
  local out, bits, nbits = {}, 0, 0
  for i = 1, #s do
    bits = bits * 256 + s:byte(i)
    nbits = nbits + 8
    while nbits >= 6 do
      nbits = nbits - 6
      local v = math.floor(bits / 2 ^ nbits) % 64
      out[#out + 1] = alphabet:sub(v + 1, v + 1)
    end
    bits = bits % 2 ^ nbits
  end
  if nbits > 0 then
    local v = (bits * 2 ^ (6 - nbits)) % 64
    out[#out + 1] = alphabet:sub(v + 1, v + 1)
  end
  return table.concat(out)
end

request = function()
  local i = math.random(1, n)
  -- the cursor of client i: its folded name and its mail key
  local cursor = b64("nombre" .. i .. "\n" .. "c" .. i .. "@bench.es")
  return wrk.format("GET", "/ui/clientes?despues=" .. cursor, headers)
end
done = common.done
