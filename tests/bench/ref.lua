-- A reference: GET BENCH_PATH ("/" by default) of nginx `return 200`, the
-- hello FastCGI application or json-server, all behind nginx.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
local path = os.getenv("BENCH_PATH") or "/"

request = function() return wrk.format("GET", path) end
done = common.done
