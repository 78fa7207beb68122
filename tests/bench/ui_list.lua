-- GET /ui/clientes, a page of the list (20 rows and the total) in mail
-- order, as a signed-in person's browser asks for it: the session cookie,
-- Accept text/html; a random page, or page BENCH_PAGE.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = {["Cookie"] = common.cookie, ["Accept"] = "text/html"}

request = function()
  local cursor = common.page_cursor(20)
  return wrk.format("GET", "/ui/clientes?orden=mail" .. (cursor and "&despues=" .. cursor or ""), headers)
end
done = common.done
