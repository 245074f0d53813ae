-- Replays pre-signed POSTs written by bench/single.py, each exactly once.
-- Thread N reads <prefix>-N.tsv (lines "timestamp<TAB>signature<TAB>body"), so the threads'
-- requests are disjoint by construction. done() prints one "BENCH-RESULT {json}" line with
-- latency percentiles and the status codes seen, which wrk's own summary does not break down.

local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local prefix, key_id = args[1], args[2]
  prepared, statuses, exhausted, nxt = {}, {}, 0, 1
  for line in io.lines(prefix .. "-" .. id .. ".tsv") do
    local timestamp, signature, body = line:match("^(%d+)\t(%x+)\t(.*)$")
    prepared[#prepared + 1] = wrk.format("POST", nil, {
      ["Content-Type"] = "application/json",
      ["X-Sentinel-Key"] = key_id,
      ["X-Sentinel-Timestamp"] = timestamp,
      ["X-Sentinel-Signature"] = signature,
    }, body)
  end
end

function request()
  local req = prepared[nxt]
  if req == nil then
    -- Out of fresh requests: resend the last one (a duplicate, answered 200) and say so.
    exhausted = exhausted + 1
    req = prepared[#prepared]
  end
  nxt = nxt + 1
  return req
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local codes, exhausted_total = {}, 0
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      codes[#codes + 1] = string.format('[%d,%d]', status, count)
    end
    exhausted_total = exhausted_total + thread:get("exhausted")
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH-RESULT {"requests":%d,"duration_us":%d,"latency_us":{"mean":%.1f,"p50":%d,' ..
    '"p90":%d,"p99":%d,"p999":%d,"max":%d},"socket_errors":{"connect":%d,"read":%d,' ..
    '"write":%d,"timeout":%d},"exhausted":%d,"statuses":[%s]}\n',
    summary.requests, summary.duration, latency.mean, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency:percentile(99.9), latency.max,
    e.connect, e.read, e.write, e.timeout, exhausted_total, table.concat(codes, ",")))
end
