-- GET /v1/clientes: a page of 20 in mail order, with the API token; a
-- random page (the cursor of a random seeded client), or page BENCH_PAGE.
-- With BENCH_SEARCH=1, a search instead: q=c012345 (a random client's
-- mail), which finds exactly one, so the whole store's keys are read.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = common.bearer()
local search = os.getenv("BENCH_SEARCH") == "1"

request = function()
  if search then
    return wrk.format("GET", string.format("/v1/clientes?limit=20&q=c%06d", common.random_k()), headers)
  end
  local cursor = common.page_cursor(20)
  return wrk.format("GET", "/v1/clientes?limit=20" .. (cursor and "&after=" .. cursor or ""), headers)
end
done = common.done
