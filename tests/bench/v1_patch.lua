-- PATCH /v1/clientes/{mail} (a JSON merge patch of the address) with
-- If-Match: the ETag the client last saw, as a client that must not
-- overwrite a change it has not seen sends it; with the API token.
--
-- The clients patched are c000001..c<BENCH_PATCH_SET>, walked in turn from
-- a random point, so no two requests in flight are about the same client
-- (and none gets 412).  Their ETags come from BENCH_ETAGS ("k version" a
-- line; tests/bench/etags.py fills in the ones missing before each run)
-- and from each answer; at the end the file gets what this run learnt.  A
-- client whose ETag is not known (its answer was still in flight when the
-- previous run stopped) is skipped.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local set = common.patch_set
local file = os.getenv("BENCH_ETAGS")
etag = {} -- a global: done() reads it from each thread
local next_k, i = nil, 0

setup = common.setup
init = function()
  local f = file and io.open(file, "r")
  if f then
    for line in f:lines() do
      local k, v = line:match("^(%d+) (%d+)$")
      if k then etag[tonumber(k)] = v end
    end
    f:close()
  end
  next_k = common.random_k() % set
end

request = function()
  local k
  for _ = 1, set do
    next_k = next_k % set + 1
    if etag[next_k] then k = next_k break end
  end
  assert(k, "v1_patch.lua: no ETag known (BENCH_ETAGS)")
  local v = etag[k]
  etag[k] = nil -- in flight: known again from its answer
  i = i + 1
  return wrk.format("PATCH", "/v1/clientes/" .. common.mail_enc(k),
    common.bearer({["Content-Type"] = "application/merge-patch+json", ["If-Match"] = '"' .. v .. '"'}),
    '{"direccion":"Calle Menor ' .. i .. '"}')
end

response = function(status, headers, body)
  local k = common.k_of_body(body)
  local v = (headers["ETag"] or headers["Etag"] or ""):match('^"(%d+)"$')
  if status == 200 and k and v then etag[k] = v end
end

done = function(summary, latency, requests)
  common.done(summary, latency, requests)
  if not file then return end
  local lines = {}
  for _, t in ipairs(common.threads) do
    for k, v in pairs(t:get("etag")) do lines[#lines + 1] = k .. " " .. v end
  end
  os.remove(file)
  common.append_lines(file, lines)
end
