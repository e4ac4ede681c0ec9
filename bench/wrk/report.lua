-- GET the URL as fast as the connections allow; print one machine-readable line at the end.
--   wrk -t2 -c50 -d10s -s report.lua http://HOST:PORT/api/v1/health
function done(summary, latency, requests)
  io.write(string.format(
    "BENCH requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout))
end
