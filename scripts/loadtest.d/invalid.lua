-- wrk script for the soak: POSTs to URL_PATH, in turn, the invalid requests bodies.py wrote (BODIES_DIR), each
-- of which must get a 4xx; the binary ones carry the Inference-Header-Content-Length of BODIES_DIR/binary.len.
-- DELAY_MS: pause before each request. Prints: RESULT requests=.. errors=.. s2xx=.. s4xx=.. s5xx=..
local dir = os.getenv("BODIES_DIR")
local path = os.getenv("URL_PATH")   -- wrk.format needs the path (nil would post to "/")
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end
local count = tonumber(slurp(dir .. "/invalid.count"))
local header_length = slurp(dir .. "/binary.len")
local reqs = {}
for i = 0, count - 1 do
  local body = slurp(dir .. "/invalid-" .. i .. ".body")
  local headers = {["Host"] = wrk.host, ["Content-Type"] = "application/json"}   -- HTTP/1.1 needs Host (else Helidon's 400)
  if i >= count - 2 then   -- the last two are binary-extension bodies (see bodies.py)
    headers["Content-Type"] = "application/octet-stream"
    headers["Inference-Header-Content-Length"] = header_length
  end
  reqs[i + 1] = wrk.format("POST", path, headers, body)
end
local delay_ms = tonumber(os.getenv("DELAY_MS") or "0")

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  s2xx, s4xx, s5xx, n = 0, 0, 0, 0
end

function request()
  n = n + 1
  return reqs[(n % #reqs) + 1]
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
  local e = summary.errors
  io.write(string.format("RESULT requests=%d errors=%d s2xx=%d s4xx=%d s5xx=%d\n",
    summary.requests, e.connect + e.read + e.write + e.timeout, c2, c4, c5))
end
