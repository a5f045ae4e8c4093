-- wrk script: POSTs one prepared request body to an Open Inference Protocol (v2) infer URL.
-- Environment: BODY_FILE (the body, from bodies.py), HEADER_LENGTH (set for a binary-extension
-- body: its Inference-Header-Content-Length), DELAY_MS (pause before each request, default 0);
-- BODY_FILES (several JSON bodies, space-separated, instead of BODY_FILE): each connection posts them in turn,
-- starting at a different one per wrk thread (requests of several shapes at once).
-- Prints one line: RESULT rps=.. p50_ms=.. p90_ms=.. p99_ms=.. requests=.. errors=.. s2xx=.. s4xx=.. s5xx=..
-- (errors: socket errors and timeouts; sNxx: responses by status class, over every wrk thread).
local function read(path)
  local f = assert(io.open(path, "rb"))
  local data = f:read("*a")
  f:close()
  return data
end
wrk.method = "POST"
local bodies = {}
for path in string.gmatch(os.getenv("BODY_FILES") or "", "%S+") do table.insert(bodies, read(path)) end
if #bodies == 0 then wrk.body = read(os.getenv("BODY_FILE")) end
local header_length = os.getenv("HEADER_LENGTH")
if header_length and header_length ~= "" then
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.headers["Inference-Header-Content-Length"] = header_length
else
  wrk.headers["Content-Type"] = "application/json"
end
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

local threads = {}

local thread_count = 0
function setup(thread)
  table.insert(threads, thread)
  thread:set("first", thread_count)
  thread_count = thread_count + 1
end

function init(args)
  s2xx, s4xx, s5xx = 0, 0, 0
  turn = first or 0
end

if #bodies > 0 then
  function request()
    turn = turn + 1
    return wrk.format(nil, nil, nil, bodies[turn % #bodies + 1])
  end
end

if delay_ms > 0 then
  function delay()
    return delay_ms
  end
end

function response(status, headers, body)
  if status >= 500 then s5xx = s5xx + 1 elseif status >= 400 then s4xx = s4xx + 1 else s2xx = s2xx + 1 end
end

function done(summary, latency, requests)
  local c2, c4, c5 = 0, 0, 0
  for _, t in ipairs(threads) do
    c2, c4, c5 = c2 + t:get("s2xx"), c4 + t:get("s4xx"), c5 + t:get("s5xx")
  end
  local s = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f requests=%d errors=%d s2xx=%d s4xx=%d s5xx=%d\n",
    summary.requests / s, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests, e.connect + e.read + e.write + e.timeout, c2, c4, c5))
end
