-- wrk script for the benchmarks: POST (or GET) with a body and headers from the environment, and a
-- machine-readable summary line. Env: KF_METHOD (POST), KF_BODY, KF_CONTENT_TYPE, KF_AUTHORIZATION.
wrk.method = os.getenv("KF_METHOD") or "POST"
wrk.body = os.getenv("KF_BODY")
local content_type = os.getenv("KF_CONTENT_TYPE")
if content_type and content_type ~= "" then wrk.headers["Content-Type"] = content_type end
local authorization = os.getenv("KF_AUTHORIZATION")
if authorization and authorization ~= "" then wrk.headers["Authorization"] = authorization end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("KF_RESULT requests=%d non2xx=%d socket_errors=%d p50_us=%d p99_us=%d duration_us=%d\n",
    summary.requests, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(99), summary.duration))
end
