-- wrk script of the emma-mock benchmarks: one request shape per run, set by environment variables.
--   BENCH_METHOD     GET (default) or POST
--   BENCH_BODY_FILE  file whose content is the request body (sent with Content-Type: application/json)
--   BENCH_AUTH       value of the Authorization header (e.g. "Basic ZGVtby1...")
--   BENCH_UNIQUE     when set, every "{n}" in the body becomes a token unique to this request
--                    (nonce _ thread _ counter), e.g. a new type_name per POST
--   BENCH_NONCE      distinguishes runs against the same state
-- done() prints one line "BENCH_RESULT {json}" that benchmarks/common.py reads.

local method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY_FILE")
local auth = os.getenv("BENCH_AUTH")
local unique = os.getenv("BENCH_UNIQUE") ~= nil
local nonce = os.getenv("BENCH_NONCE") or "0"

local body = nil
if body_file then
  local f = assert(io.open(body_file, "rb"))
  body = f:read("*a")
  f:close()
end

wrk.method = method
if auth then wrk.headers["Authorization"] = auth end
if body then
  wrk.headers["Content-Type"] = "application/json"
  wrk.body = body
end

local threads_started = 0
function setup(thread)
  thread:set("tid", threads_started)
  threads_started = threads_started + 1
end

local counter = 0
local fixed = nil
local head, tail = nil, nil
if body and unique then
  local at = string.find(body, "{n}", 1, true)
  head, tail = string.sub(body, 1, at - 1), string.sub(body, at + 3)
end

function request()
  if head then
    counter = counter + 1
    return wrk.format(nil, nil, nil, head .. nonce .. "_" .. tostring(tid) .. "_" .. counter .. tail)
  end
  if not fixed then fixed = wrk.format() end
  return fixed
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "p50_us": %d, "p90_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean))
end
