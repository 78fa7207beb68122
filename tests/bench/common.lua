-- Shared by the bin/bench and bin/soak scripts (wrk -t1 or more; one Lua
-- state per thread): the seeded clients, the credentials, the cursors, and
-- one machine-readable result line.
--
-- The environment, set by bin/bench (tests/bench/lib.sh bench_load):
--   BENCH_N       clients seeded: c000001..cN@bench.es (tests/bench/clients.py)
--   BENCH_TOKEN   an API token (an editor's), sent as Authorization: Bearer
--   BENCH_COOKIE  a browser session's cookie (__Host-session=...)
local M = {}

M.n = tonumber(os.getenv("BENCH_N") or "100000")
-- the clients v1_patch.lua walks (c000001..c<patch_set>), whose ETags it
-- keeps: other writes leave them alone (mixed.lua)
M.patch_set = tonumber(os.getenv("BENCH_PATCH_SET") or "2000")
M.token = os.getenv("BENCH_TOKEN") or ""
M.cookie = os.getenv("BENCH_COOKIE") or ""

local seeded = false
local function seed()
  if not seeded then
    -- distinct per thread and per run: a thread's address is in tostring({})
    math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)") or "0", 16) % 100000)
    seeded = true
  end
end

function M.random_k()
  seed()
  return math.random(1, M.n)
end

-- A random client outside the PATCH scenario's set (when there are others).
function M.random_k_unpatched()
  seed()
  if M.n <= M.patch_set then return math.random(1, M.n) end
  return math.random(M.patch_set + 1, M.n)
end

-- Client k's mail, as stored and percent-encoded for a path or a query.
function M.mail(k) return string.format("c%06d@bench.es", k) end
function M.mail_enc(k) return string.format("c%06d%%40bench.es", k) end

-- The number of the client a /v1 body is about ("mail":"c000123@bench.es").
function M.k_of_body(body)
  local k = body and body:match('"mail":"c(%d%d%d%d%d%d)@bench%.es"')
  return k and tonumber(k)
end

function M.bearer(extra)
  local h = {["Authorization"] = "Bearer " .. M.token}
  for k, v in pairs(extra or {}) do h[k] = v end
  return h
end

local b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function base64url(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    for j = 1, (b and (c and 4 or 3) or 2) do
      local idx = math.floor(v / 2 ^ (6 * (4 - j))) % 64
      out[#out + 1] = b64:sub(idx + 1, idx + 1)
    end
  end
  return table.concat(out)
end

-- The keyset cursor of the page after client k in mail order, as /v1 and
-- the browser pages make it (cgi/v1.c v1_cursor_encode: "c1", the sort
-- (0: mail), the direction, the sort's value (none for mail), NUL, the
-- folded mail).  Page p (20 a page) is the one after client 20 (p - 1).
function M.cursor_after(k)
  return base64url("c10+\0" .. M.mail(k))
end

-- The page number asked for (BENCH_PAGE), or nil for a random one.
M.page = tonumber(os.getenv("BENCH_PAGE") or "")

-- The cursor of a page: BENCH_PAGE's (nil for page 1), else a random page's.
function M.page_cursor(per_page)
  local p = M.page
  if not p then p = math.floor((M.random_k() - 1) / per_page) + 1 end
  if p <= 1 then return nil end
  return M.cursor_after((p - 1) * per_page)
end

-- Writes lines to FILE (appending), from done(): the tables the threads
-- kept, e.g. the mails acknowledged.
function M.append_lines(file, lines)
  if not file or file == "" then return end
  local f = assert(io.open(file, "a"))
  for _, l in ipairs(lines) do f:write(l, "\n") end
  f:close()
end

M.threads = {}
function M.setup(thread) table.insert(M.threads, thread) end

function M.done(summary, latency, requests)
  local s = summary
  local errors = s.errors.connect + s.errors.read + s.errors.write + s.errors.status + s.errors.timeout
  io.write(string.format("RESULT rps=%.1f p50_ms=%.3f p99_ms=%.3f errors=%d requests=%d non2xx=%d\n",
    s.requests / (s.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, s.requests, s.errors.status))
end

return M
