-- wrk script: POST the AdmissionReview fixture (BENCH_FIXTURE) as kube-apiserver
-- does (application/json, keep-alive). With BENCH_REQUESTS_PER_THREAD set, each
-- wrk thread stops after that many responses (the RSS run of bench/run). With
-- BENCH_PACE_MS set, each connection waits that many milliseconds after every
-- reply (the paced phase).
local f = assert(io.open(os.getenv("BENCH_FIXTURE"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*a")
f:close()
wrk.headers["Content-Type"] = "application/json"

local limit = tonumber(os.getenv("BENCH_REQUESTS_PER_THREAD") or "")
if limit then
  local done = 0
  response = function(status, headers, body)
    done = done + 1
    if done >= limit then
      wrk.thread:stop()
    end
  end
end

local pace = tonumber(os.getenv("BENCH_PACE_MS") or "")
if pace and pace > 0 then
  delay = function()
    return pace
  end
end
