-- wrk script: POSTs an Open Inference Protocol (v2) JSON request for the digits model.
-- ROWS (env, default 1) images of 64 pixels each; every request carries the same body.
local rows = tonumber(os.getenv("ROWS") or "1")
local data = {}
for i = 1, rows * 64 do data[i] = string.format("%.4f", ((i * 7) % 17) / 16) end
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"inputs":[{"name":"input","shape":[' .. rows .. ',1,8,8],"datatype":"FP32","data":[' .. table.concat(data, ",") .. ']}]}'

local statuses = {}
function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local s = summary.duration / 1e6
  io.write(string.format("RESULT rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f requests=%d errors=%d\n",
    summary.requests / s, latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
