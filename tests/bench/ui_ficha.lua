-- GET /ui/cliente, a client's card (the record and its history) of a random
-- seeded client, as a signed-in person's browser asks for it: the session
-- cookie, Accept text/html.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local headers = {["Cookie"] = common.cookie, ["Accept"] = "text/html"}

request = function()
  return wrk.format("GET", "/ui/cliente?mail=" .. common.mail_enc(common.random_k()), headers)
end
done = common.done
