-- wrk script for every benchmark scenario. Environment:
--   BENCH_SCENARIO  get | list | create | toggle | mix (70% get, 10% list, 10% create, 10% toggle)
--                   | health (GET BENCH_HEALTH_PATH: the HTTP layer alone, no DynamoDB call)
--   BENCH_IDS       ids 1..BENCH_IDS exist in the table (get and toggle pick one at random)
--   BENCH_THINK_MS  mean pause between a connection's requests (exponential); 0 = closed loop
--   BENCH_AUTHORIZATION  if set, the Authorization header of every request ("Bearer <token>")
-- done() prints one line, "BENCH-JSON {...}", that the harness parses.
local scenario = os.getenv("BENCH_SCENARIO") or "get"
local ids = tonumber(os.getenv("BENCH_IDS") or "10000")
local think_ms = tonumber(os.getenv("BENCH_THINK_MS") or "0")
local authorization = os.getenv("BENCH_AUTHORIZATION")
-- wrk.format takes either its own headers or wrk.headers, never both: each request names its
-- headers, built once (wrk.format only adds Host and Content-Length to them).
local function headers(extra)
  local h = {}
  if authorization ~= nil and authorization ~= "" then h["Authorization"] = authorization end
  for name, value in pairs(extra or {}) do h[name] = value end
  return h
end
local plain_headers = headers()
local json_headers = headers({ ["Content-Type"] = "application/json" })
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("seed", counter)
end

function init(args)
  math.randomseed(os.time() * 1000 + (seed or 0))
end

local function get()
  return wrk.format("GET", "/todos/" .. math.random(1, ids), plain_headers)
end

local function list()
  return wrk.format("GET", "/todos?limit=50", plain_headers)
end

local function create()
  return wrk.format("POST", "/todos", json_headers, '{"text": "a todo made by the benchmark"}')
end

local function toggle()
  return wrk.format("POST", "/todos/" .. math.random(1, ids) .. "/toggle", plain_headers)
end

local function mix()
  local r = math.random(1, 100)
  if r <= 70 then return get() end
  if r <= 80 then return list() end
  if r <= 90 then return create() end
  return toggle()
end

-- The workshop's baseline has its health check at /, ours at /healthz.
local health_path = os.getenv("BENCH_HEALTH_PATH") or "/healthz"
local function health()
  return wrk.format("GET", health_path, plain_headers)
end

local builders = {
  get = get, list = list, create = create, toggle = toggle, mix = mix, health = health
}
local build = builders[scenario]
if build == nil then error("unknown BENCH_SCENARIO " .. scenario) end

request = function()
  return build()
end

if think_ms > 0 then
  delay = function()
    -- Exponential pauses approximate an open (Poisson) arrival of requests.
    return math.floor(-math.log(1 - math.random()) * think_ms)
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH-JSON {"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, ' ..
    '"write": %d, "status": %d, "timeout": %d}, "latency_us": {"p50": %d, "p95": %d, ' ..
    '"p99": %d, "mean": %.1f, "max": %d}}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean,
    latency.max))
end
