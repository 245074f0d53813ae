-- Rolling aggregates: record events and/or compute aggregate specs, in one call (see store.py).
--
-- KEYS: the sorted sets involved, one per (partner, key kind, key value); score = occurred_at in
-- epoch milliseconds, member = id␟amount␟currency␟type␟direction␟status␟channel␟counterparty␟
-- counterparty_country␟device␟ip (␟ is \031; amounts in integer minor units).
-- ARGV[1], JSON:
--   mode  "record" | "compute" | "both" | "preview" (compute as if recorded, then undo)
--   e     events: [t_ms, member, currency, [KEYS index per key kind, 0 when absent], wanted?]
--         where wanted, if present, is the number of the event's list in w
--   w     (with wanted) lists of the spec indexes to compute for an event (the others answer
--         "no value"): a card payment need not read a week of wires; the events of one rule
--         scope share one list, sent once
--   s     specs: [function, kind, range_ms, window_ms, field, types, directions, statuses,
--         channels, base]; range_ms is how far back the function reads (0: days_since_previous);
--         base 1 asks an amount function for every currency's figure ("over amount_base": the
--         caller converts them), as "~" then currency:figure entries joined by "|"
--   ret   retention in ms; ttl expiry of a set in seconds, per key kind (KEY_KINDS order)
--   budget (optional, "both" and "compute") the most members computing may read in this call
-- Returns, when computing, #e * #s values joined by ";", event by event, specs in order; an
-- empty value is "no value" (None). Over budget, "both" records but does not compute (nor does
-- "compute"): it returns "!" and the members each key (in KEYS order) would have read, joined
-- by ",".
-- Amounts are summed in two limbs (amount = hi * 10^8 + lo) so every sum stays an integer below
-- 2^53, exact in a Lua double, up to about 9 million transactions per window.

local request = cjson.decode(ARGV[1])
local events, specs, mode = request.e, request.s, request.mode
local SEP = "\031"
-- Every field but the id, which computing never needs.
local FIELDS = "^[^" .. SEP .. "]*" .. SEP .. string.rep("([^" .. SEP .. "]*)" .. SEP, 9)
  .. "([^" .. SEP .. "]*)$"
local AMOUNT, CURRENCY, TYPE, DIRECTION, STATUS, CHANNEL, COUNTERPARTY = 2, 3, 4, 5, 6, 7, 8
local HI, LO = 12, 13 -- the amount's limbs, parsed

local function int(x)
  return string.format("%.0f", x)
end

-- Recording ----------------------------------------------------------------------------------

local added = {} -- [KEYS index] = members this call added (for "preview" to take back)

local function record(trim)
  local newest = {} -- [KEYS index] = the latest score this call added to it
  local kind_of = {} -- [KEYS index] = position of its key kind
  local pairs_of = {} -- [KEYS index] = score, member, score, member... to add in one ZADD
  for _, e in ipairs(events) do
    local score = int(e[1])
    for kind, k in ipairs(e[4]) do
      if k > 0 then
        kind_of[k] = kind
        if trim then
          local list = pairs_of[k]
          if list == nil then
            pairs_of[k] = { score, e[2] }
          else
            list[#list + 1], list[#list + 2] = score, e[2]
          end
        elseif redis.call("ZADD", KEYS[k], score, e[2]) == 1 then
          -- One by one when previewing, to know which members to take back.
          added[k] = added[k] or {}
          table.insert(added[k], e[2])
        end
        newest[k] = math.max(newest[k] or e[1], e[1])
      end
    end
  end
  if not trim then
    return
  end
  for k, list in pairs(pairs_of) do
    for first = 1, #list, 1000 do
      redis.call("ZADD", KEYS[k], unpack(list, first, math.min(first + 999, #list)))
    end
  end
  for k, latest in pairs(newest) do
    -- Keep what is younger than retention before the newest member, plus the newest older one
    -- so days_since_previous still sees across a long gap. Measuring from this call's latest
    -- event, never later than the key's newest member, trims no more than that (saves a read).
    local key = KEYS[k]
    local older = redis.call("ZCOUNT", key, "-inf", "(" .. int(latest - request.ret))
    if older > 1 then
      redis.call("ZREMRANGEBYRANK", key, 0, older - 2)
    end
    redis.call("EXPIRE", key, request.ttl[kind_of[k]])
  end
end

local function undo()
  for k, members in pairs(added) do
    redis.call("ZREM", KEYS[k], unpack(members))
  end
end

-- Computing ----------------------------------------------------------------------------------

local parsed = {} -- member -> its fields; members repeat across the events of a batch

local function parse(member)
  local p = parsed[member]
  if p == nil then
    local amount, currency, type_, direction, status, channel, counterparty, country, device, ip =
      string.match(member, FIELDS)
    local n, hi, lo = #amount, 0, nil
    if n > 8 then
      hi, lo = tonumber(string.sub(amount, 1, n - 8)), tonumber(string.sub(amount, n - 7))
    else
      lo = tonumber(amount)
    end
    -- One constructor, so the table is allocated once at its final size.
    p = { false, amount, currency, type_, direction, status, channel, counterparty, country, device, ip, hi, lo }
    parsed[member] = p
  end
  return p
end

local function set_of(values)
  if #values == 0 then
    return nil
  end
  local set = {}
  for _, value in ipairs(values) do
    set[value] = true
  end
  return set
end

local function matches(s, p)
  return (s.types == nil or s.types[p[TYPE]])
    and (s.directions == nil or s.directions[p[DIRECTION]])
    and (s.statuses == nil or s.statuses[p[STATUS]])
    and (s.channels == nil or s.channels[p[CHANNEL]])
end

-- Each key is read once per call. Then, for each of its specs, one sweep in time order answers
-- all the call's events on that key: the members enter a sliding window as its end passes
-- them and leave it as its start does, and running state (counts, two-limb sums, a monotonic
-- queue for extremes, per-value counters for distinct values) answers each event in O(1). A
-- key's cost is O(members read + its events) per spec, however many events of the call it
-- carries (it was O(members x events): a hot key's batch went quadratic).

-- First index in [lo, hi) whose score is above `bound` (scores ascend); hi when there is none.
local function first_above(scores, lo, hi, bound)
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if scores[mid] > bound then
      hi = mid
    else
      lo = mid + 1
    end
  end
  return lo
end

-- A window function: `state(s)` makes a fresh state for spec s; `enter(state, p, x)` and
-- `leave(state, p, x)` see each matching member (its fields and index) as it enters the window
-- (score <= t) and as it leaves it (score <= t - window), in index order; `value(state, job)`
-- answers an event. Leaving happens in the order of entering, so a queue suffices for extremes.
local function slide(fn, r, s, jobs, out)
  local fields, scores, n, any, window = r.fields, r.scores, r.n, s.any, s.window
  local state = fn.state(s)
  local enter, leave, value = fn.enter, fn.leave, fn.value
  local top = first_above(scores, 1, n + 1, jobs[1].t - window)
  local bottom, matched = top, {}
  for _, job in ipairs(jobs) do
    local t = job.t
    while top <= n and scores[top] <= t do
      local p = fields[top]
      if any or matches(s, p) then
        matched[top] = true
        enter(state, p, top)
      end
      top = top + 1
    end
    local edge = t - window
    while bottom < top and scores[bottom] <= edge do
      if matched[bottom] then
        leave(state, fields[bottom], bottom)
      end
      bottom = bottom + 1
    end
    out[job.slot + s.j] = value(state, job, s)
  end
end

local window_functions = {}

window_functions.count = {
  state = function()
    return { c = 0 }
  end,
  enter = function(state)
    state.c = state.c + 1
  end,
  leave = function(state)
    state.c = state.c - 1
  end,
  value = function(state)
    return int(state.c)
  end,
}

-- Per currency: the two limbs' sums and the count (integers, so subtracting stays exact).
local function sums_state()
  return {}
end

local function sums_enter(state, p)
  local currency = p[CURRENCY]
  local total = state[currency]
  if total == nil then
    state[currency] = { p[HI], p[LO], 1 }
  else
    total[1], total[2], total[3] = total[1] + p[HI], total[2] + p[LO], total[3] + 1
  end
end

local function sums_leave(state, p)
  local total = state[p[CURRENCY]]
  total[1], total[2], total[3] = total[1] - p[HI], total[2] - p[LO], total[3] - 1
end

-- Over amount_base: every currency's figure, for the caller to convert ("~" and nothing when
-- no currency has a matching member in the window).
local function every_currency(state, figure)
  local parts = {}
  for currency, total in pairs(state) do
    local value = figure(total)
    if value ~= nil then
      parts[#parts + 1] = currency .. ":" .. value
    end
  end
  return "~" .. table.concat(parts, "|")
end

local function sum_figure(total)
  if total[3] == 0 then
    return nil
  end
  return int(total[1]) .. "," .. int(total[2]) .. "," .. int(total[3])
end

window_functions.sum = {
  state = sums_state,
  enter = sums_enter,
  leave = sums_leave,
  value = function(state, job, s)
    if s.base then
      return every_currency(state, sum_figure)
    end
    local total = state[job.currency]
    if total == nil then
      return "0,0"
    end
    return int(total[1]) .. "," .. int(total[2])
  end,
}

window_functions.avg = {
  state = sums_state,
  enter = sums_enter,
  leave = sums_leave,
  value = function(state, job, s)
    if s.base then
      return every_currency(state, sum_figure)
    end
    local total = state[job.currency]
    if total == nil or total[3] == 0 then
      return ""
    end
    return int(total[1]) .. "," .. int(total[2]) .. "," .. int(total[3])
  end,
}

-- The largest (sign 1) or smallest (sign -1) amount per currency: a queue of member indexes
-- whose amounts decrease (for max) from head to tail; the head is the answer.
local function extreme(sign)
  return {
    state = function()
      return {}
    end,
    enter = function(state, p, x)
      local currency = p[CURRENCY]
      local queue = state[currency]
      if queue == nil then
        queue = { head = 1, tail = 0 }
        state[currency] = queue
      end
      local hi, lo = p[HI] * sign, p[LO] * sign
      local tail = queue.tail
      while tail >= queue.head do
        local q = queue[tail]
        local q_hi, q_lo = q[HI] * sign, q[LO] * sign
        if q_hi > hi or (q_hi == hi and q_lo > lo) then
          break
        end
        queue[tail] = nil
        tail = tail - 1
      end
      tail = tail + 1
      queue[tail], queue.tail = p, tail
      queue[-tail] = x -- the member's index, to know when it leaves
    end,
    leave = function(state, p, x)
      local queue = state[p[CURRENCY]]
      local head = queue.head
      if head <= queue.tail and queue[-head] == x then
        queue[head], queue[-head] = nil, nil
        queue.head = head + 1
      end
    end,
    value = function(state, job, s)
      if s.base then
        return every_currency(state, function(queue)
          if queue.head > queue.tail then
            return nil
          end
          return queue[queue.head][AMOUNT]
        end)
      end
      local queue = state[job.currency]
      if queue == nil or queue.head > queue.tail then
        return ""
      end
      return queue[queue.head][AMOUNT]
    end,
  }
end

window_functions.max = extreme(1)
window_functions.min = extreme(-1)

window_functions.distinct = {
  state = function(s)
    return { seen = {}, c = 0, field = s.field }
  end,
  enter = function(state, p)
    local value = p[state.field]
    if value ~= "" then
      local seen = state.seen
      local times = (seen[value] or 0) + 1
      seen[value] = times
      if times == 1 then
        state.c = state.c + 1
      end
    end
  end,
  leave = function(state, p)
    local value = p[state.field]
    if value ~= "" then
      local seen = state.seen
      local times = seen[value] - 1
      seen[value] = times
      if times == 0 then
        state.c = state.c - 1
      end
    end
  end,
  value = function(state)
    return int(state.c)
  end,
}

local sweep = {}

for name, fn in pairs(window_functions) do
  sweep[name] = function(r, s, jobs, out)
    slide(fn, r, s, jobs, out)
  end
end

-- A counterparty is new at t when it appears (matching) in the window (t - window, t] and not
-- in the older part of the look-back (t - range, t - window]: three pointers, per-value
-- counters for both parts, and the number of values in the window and not in the older part.
function sweep.new_counterparties(r, s, jobs, out)
  local fields, scores, n, any = r.fields, r.scores, r.n, s.any
  local window, range = s.window, s.range
  local top = first_above(scores, 1, n + 1, jobs[1].t - range)
  local middle, bottom = top, top
  local inside, older, c, matched = {}, {}, 0, {}
  for _, job in ipairs(jobs) do
    local t = job.t
    while top <= n and scores[top] <= t do
      local p = fields[top]
      local value = p[COUNTERPARTY]
      if value ~= "" and (any or matches(s, p)) then
        matched[top] = value
        local times = (inside[value] or 0) + 1
        inside[value] = times
        if times == 1 and (older[value] or 0) == 0 then
          c = c + 1
        end
      end
      top = top + 1
    end
    local edge = t - window
    while middle < top and scores[middle] <= edge do
      local value = matched[middle]
      if value then
        local times, before = inside[value] - 1, older[value] or 0
        inside[value], older[value] = times, before + 1
        if before == 0 then
          c = c - 1 -- it was in the window and not older; now it is older
        end
      end
      middle = middle + 1
    end
    local horizon = t - range
    while bottom < middle and scores[bottom] <= horizon do
      local value = matched[bottom]
      if value then
        local before = older[value] - 1
        older[value] = before
        if before == 0 and (inside[value] or 0) > 0 then
          c = c + 1
        end
      end
      bottom = bottom + 1
    end
    out[job.slot + s.j] = int(c)
  end
end

-- The latest matching member at or below `below` (a ZRANGE bound), paging down from it (a
-- short first page: without filters the first member is the answer).
local function latest_below(key, s, below, t)
  local offset = 0
  while true do
    local size = offset == 0 and 10 or 100
    local page = redis.call("ZREVRANGEBYSCORE", key, below, "-inf", "WITHSCORES", "LIMIT", offset, size)
    if #page == 0 then
      return false
    end
    for x = 1, #page, 2 do
      local score = tonumber(page[x + 1])
      if score < t and matches(s, parse(page[x])) then
        return score
      end
    end
    offset = offset + #page / 2
  end
end

-- The latest matching member strictly before t: the last one passed in the sweep, else the
-- latest at or below the read's floor (which lies below every t of the key's events), paged
-- once for all of them.
function sweep.days_since_previous(r, s, jobs, out, key)
  local fields, scores, n, any = r.fields, r.scores, r.n, s.any
  local x, latest, older = 1, nil, nil
  for _, job in ipairs(jobs) do
    local t = job.t
    while x <= n and scores[x] < t do
      if any or matches(s, fields[x]) then
        latest = scores[x]
      end
      x = x + 1
    end
    local previous = latest
    if previous == nil then
      if older == nil then
        older = latest_below(key, s, int(r.floor), t)
      end
      previous = older
    end
    out[job.slot + s.j] = previous and int(t - previous) or ""
  end
end

-- A key's members over the span all the call's events need, read once: (floor, ceiling].
local function read(key, floor, ceiling)
  local fields, scores, n = {}, {}, 0
  local members = redis.call("ZRANGEBYSCORE", key, "(" .. int(floor), int(ceiling), "WITHSCORES")
  for x = 1, #members, 2 do
    n = n + 1
    fields[n], scores[n] = parse(members[x]), tonumber(members[x + 1])
  end
  return { fields = fields, scores = scores, n = n, floor = floor }
end

local function compute_all(budget)
  local by_kind = {}
  for j, spec in ipairs(specs) do
    local s = {
      j = j,
      sweep = sweep[spec[1]],
      range = spec[3],
      window = spec[4],
      field = spec[5],
      types = set_of(spec[6]),
      directions = set_of(spec[7]),
      statuses = set_of(spec[8]),
      channels = set_of(spec[9]),
      base = spec[10] == 1,
    }
    s.any = s.types == nil and s.directions == nil and s.statuses == nil and s.channels == nil
    local group = by_kind[spec[2]]
    if group == nil then
      group = {}
      by_kind[spec[2]] = group
    end
    table.insert(group, s)
  end

  local width = #specs
  local out = {}
  for i = 1, #events * width do
    out[i] = ""
  end

  -- Each key's events (those that want one of its kind's specs), and the span its reads need:
  -- a key is read once per call, over the union of its events' ranges (hot keys such as an
  -- account in a burst, a shared device or a merchant counterparty repeat within a batch).
  local on_key, spans = {}, {}
  local wanted_sets = {}
  for n, list in ipairs(request.w or {}) do
    local set = {}
    for _, j in ipairs(list) do
      set[j] = true
    end
    wanted_sets[n] = set
  end
  for i, e in ipairs(events) do
    local wanted = nil
    if e[5] then
      wanted = wanted_sets[e[5]]
    end
    for kind, group in pairs(by_kind) do
      local k = e[4][kind]
      if k > 0 then
        local asked, range = false, 0
        for _, s in ipairs(group) do
          if wanted == nil or wanted[s.j] then
            asked, range = true, math.max(range, s.range)
          end
        end
        if asked then
          local list = on_key[k]
          if list == nil then
            list = { kind = kind }
            on_key[k] = list
          end
          list[#list + 1] = { t = e[1], slot = (i - 1) * width, currency = e[3], wanted = wanted }
          -- days_since_previous reads from just below t (then pages further down, once per
          -- key: the floor is below every t of the key's events).
          range = math.max(range, 1)
          local span = spans[k]
          if span == nil then
            spans[k] = { e[1] - range, e[1] }
          else
            span[1], span[2] = math.min(span[1], e[1] - range), math.max(span[2], e[1])
          end
        end
      end
    end
  end

  -- Over budget: answer how many members each key would read instead of reading them, so
  -- the caller computes in smaller calls (the events are recorded already).
  if budget then
    local counts, total = {}, 0
    for k = 1, #KEYS do
      local span = spans[k]
      counts[k] = 0
      if span ~= nil then
        counts[k] = redis.call("ZCOUNT", KEYS[k], "(" .. int(span[1]), int(span[2]))
        total = total + counts[k]
      end
    end
    if total > budget then
      return "!" .. table.concat(counts, ",")
    end
  end

  local by_time = function(a, b)
    return a.t < b.t
  end
  for k, list in pairs(on_key) do
    table.sort(list, by_time)
    local r = read(KEYS[k], spans[k][1], spans[k][2])
    for _, s in ipairs(by_kind[list.kind]) do
      local jobs = {}
      for _, item in ipairs(list) do
        if item.wanted == nil or item.wanted[s.j] then
          jobs[#jobs + 1] = item
        end
      end
      if #jobs > 0 then
        s.sweep(r, s, jobs, out, KEYS[k])
      end
    end
  end
  -- One string rather than an array: far cheaper for the client to parse.
  return table.concat(out, ";")
end

if mode == "record" then
  record(true)
  return ""
elseif mode == "both" then
  record(true)
  return compute_all(request.budget)
elseif mode == "preview" then
  record(false)
  local out = compute_all()
  undo()
  return out
end
return compute_all(request.budget)
