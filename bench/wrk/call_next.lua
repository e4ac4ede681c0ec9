-- POST call-next for one department until its queue is empty (the first `{"ticket":null}`),
-- then stop. Used by bench/bench_wrk.py, one wrk per department:
--   wrk -t1 -cN -d120s -s call_next.lua http://HOST:PORT -- TOKEN DEPARTMENT ROOM
local path, body
local called, empty, failed = 0, 0, 0

function init(args)
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. args[1]
  wrk.headers["Content-Type"] = "application/json"
  path = "/api/v1/departments/" .. args[2] .. "/call-next"
  body = '{"room":"' .. args[3] .. '"}'
end

function request()
  return wrk.format(nil, path, nil, body)
end

function response(status, headers, answer)
  if status ~= 200 then
    failed = failed + 1
  elseif string.find(answer, '"ticket":null', 1, true) then
    empty = empty + 1
    wrk.thread:stop()
  else
    called = called + 1
  end
end

function done(summary, latency, requests)
  -- One machine-readable line; latencies in microseconds.
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
