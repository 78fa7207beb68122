-- The reference: the same GET against an nginx that answers `return 200`.
package.path = (os.getenv("BENCH_LUA_DIR") or ".") .. "/?.lua;" .. package.path
local common = require("common")
done = common.done
