-- Rolling aggregates: record events and/or compute aggregate specs, in one call (see store.py).
--
-- KEYS: the sorted sets involved, one per (partner, key kind, key value); score = occurred_at in
-- epoch milliseconds, member = id␟amount␟currency␟type␟direction␟status␟channel␟counterparty␟
-- counterparty_country␟device␟ip (␟ is \031; amounts in integer minor units).
-- ARGV[1], JSON:
--   mode  "record" | "compute" | "both" | "preview" (compute as if recorded, then undo)
--   e     events: [t_ms, member, currency, [KEYS index per key kind, 0 when absent], wanted?]
--         where wanted, if present, lists the spec indexes to compute for that event (the
--         others answer "no value"): a card payment need not read a week of wires
--   s     specs: [function, kind, range_ms, window_ms, field, types, directions, statuses,
--         channels]; range_ms is how far back the function reads (0: days_since_previous)
--   ret   retention in ms; ttl expiry of a set in seconds, per key kind (KEY_KINDS order)
-- Returns, when computing, #e * #s values joined by ";", event by event, specs in order; an
-- empty value is "no value" (None).
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
  for _, e in ipairs(events) do
    local score = int(e[1])
    for kind, k in ipairs(e[4]) do
      if k > 0 then
        kind_of[k] = kind
        if redis.call("ZADD", KEYS[k], score, e[2]) == 1 then
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

-- First index of the event's slice whose score is above `from` (scores ascend), memoised per
-- event and bound; w.last + 1 when there is none.
local function first_after(w, from)
  local found = w.starts[from]
  if found == nil then
    local lo, hi, scores = w.first, w.last + 1, w.scores
    while lo < hi do
      local mid = math.floor((lo + hi) / 2)
      if scores[mid] > from then
        hi = mid
      else
        lo = mid + 1
      end
    end
    found = lo
    w.starts[from] = found
  end
  return found
end

local compute = {}

function compute.count(s, w)
  local from = first_after(w, w.t - s.window)
  if s.any then
    return w.last - from + 1
  end
  local fields, c = w.fields, 0
  for x = from, w.last do
    if matches(s, fields[x]) then
      c = c + 1
    end
  end
  return c
end

local function total(s, w)
  local fields, currency, any, hi, lo, c = w.fields, w.currency, s.any, 0, 0, 0
  for x = first_after(w, w.t - s.window), w.last do
    local p = fields[x]
    if p[CURRENCY] == currency and (any or matches(s, p)) then
      hi, lo, c = hi + p[HI], lo + p[LO], c + 1
    end
  end
  return hi, lo, c
end

-- The largest (sign 1) or smallest (sign -1) amount, as its digits.
local function extreme(s, w, sign)
  local fields, currency, any, best, best_hi, best_lo = w.fields, w.currency, s.any, nil, 0, 0
  for x = first_after(w, w.t - s.window), w.last do
    local p = fields[x]
    if p[CURRENCY] == currency and (any or matches(s, p)) then
      local hi, lo = p[HI] * sign, p[LO] * sign
      if best == nil or hi > best_hi or (hi == best_hi and lo > best_lo) then
        best, best_hi, best_lo = p, hi, lo
      end
    end
  end
  return best ~= nil and best[AMOUNT]
end

function compute.sum(s, w)
  local hi, lo = total(s, w)
  return int(hi) .. "," .. int(lo)
end

function compute.avg(s, w)
  local hi, lo, c = total(s, w)
  return c > 0 and (int(hi) .. "," .. int(lo) .. "," .. c)
end

function compute.max(s, w)
  return extreme(s, w, 1)
end

function compute.min(s, w)
  return extreme(s, w, -1)
end

function compute.distinct(s, w)
  local fields, field, any, seen, c = w.fields, s.field, s.any, {}, 0
  for x = first_after(w, w.t - s.window), w.last do
    local p = fields[x]
    if any or matches(s, p) then
      local value = p[field]
      if value ~= "" and not seen[value] then
        seen[value], c = true, c + 1
      end
    end
  end
  return c
end

function compute.new_counterparties(s, w)
  -- Scores ascend, so the first sighting of a counterparty is its earliest in the look-back.
  local fields, any, seen, c = w.fields, s.any, {}, 0
  local inside = first_after(w, w.t - s.window)
  for x = first_after(w, w.t - s.range), w.last do
    local p = fields[x]
    if any or matches(s, p) then
      local value = p[COUNTERPARTY]
      if value ~= "" and not seen[value] then
        seen[value] = true
        if x >= inside then
          c = c + 1
        end
      end
    end
  end
  return c
end

function compute.days_since_previous(s, w)
  -- Members before the slice are older still: keep going down through what was read.
  for x = first_after(w, w.t - 1) - 1, 1, -1 do
    if s.any or matches(s, w.fields[x]) then
      return w.t - w.scores[x]
    end
  end
  -- Then page back through what is older than the read.
  local below = w.floor and int(w.floor) or ("(" .. int(w.t))
  local offset = 0
  while true do
    local page = redis.call("ZREVRANGEBYSCORE", w.key, below, "-inf", "WITHSCORES", "LIMIT", offset, 100)
    if #page == 0 then
      return false
    end
    for x = 1, #page, 2 do
      local score = tonumber(page[x + 1])
      if score < w.t and matches(s, parse(page[x])) then
        return w.t - score
      end
    end
    offset = offset + #page / 2
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

-- Last index whose score is at most t.
local function last_until(scores, n, t)
  local lo, hi = 1, n + 1
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if scores[mid] > t then
      hi = mid
    else
      lo = mid + 1
    end
  end
  return lo - 1
end

local function compute_all()
  local by_kind = {}
  for j, spec in ipairs(specs) do
    local s = {
      j = j,
      fn = compute[spec[1]],
      range = spec[3],
      window = spec[4],
      field = spec[5],
      types = set_of(spec[6]),
      directions = set_of(spec[7]),
      statuses = set_of(spec[8]),
      channels = set_of(spec[9]),
    }
    s.any = s.types == nil and s.directions == nil and s.statuses == nil and s.channels == nil
    local group = by_kind[spec[2]]
    if group == nil then
      group = { range = 0, specs = {} }
      by_kind[spec[2]] = group
    end
    table.insert(group.specs, s)
    group.range = math.max(group.range, s.range)
  end

  -- What each event asks of each key kind: the specs it wants and how far back they read.
  local asks = {}
  for i, e in ipairs(events) do
    local wanted = e[5] and set_of(e[5])
    local per_kind = {}
    for kind, group in pairs(by_kind) do
      local chosen, range = {}, 0
      for _, s in ipairs(group.specs) do
        if wanted == nil or wanted[s.j] then
          table.insert(chosen, s)
          range = math.max(range, s.range)
        end
      end
      per_kind[kind] = { specs = chosen, range = range }
    end
    asks[i] = per_kind
  end

  -- Each key is read once per call, over the union of its events' ranges (hot keys such as a
  -- shared device or a merchant counterparty repeat within a batch).
  local spans = {}
  for i, e in ipairs(events) do
    for kind, ask in pairs(asks[i]) do
      local k = e[4][kind]
      if k > 0 and ask.range > 0 then
        local span = spans[k]
        if span == nil then
          spans[k] = { e[1] - ask.range, e[1] }
        else
          span[1], span[2] = math.min(span[1], e[1] - ask.range), math.max(span[2], e[1])
        end
      end
    end
  end
  local reads, nothing = {}, { fields = {}, scores = {}, n = 0 }

  local out, width = {}, #specs
  for i = 1, #events * width do
    out[i] = ""
  end
  for i, e in ipairs(events) do
    local base, t = (i - 1) * width, e[1]
    for kind, ask in pairs(asks[i]) do
      local k = e[4][kind]
      if k > 0 and #ask.specs > 0 then
        local r = nothing
        if ask.range > 0 then
          r = reads[k]
          if r == nil then
            r = read(KEYS[k], spans[k][1], spans[k][2])
            reads[k] = r
          end
        end
        local w = {
          t = t, currency = e[3], key = KEYS[k], floor = r.floor, fields = r.fields,
          scores = r.scores, first = 1, last = last_until(r.scores, r.n, t), starts = {},
        }
        w.first = first_after(w, t - ask.range)
        w.starts = {}
        for _, s in ipairs(ask.specs) do
          local value = s.fn(s, w)
          out[base + s.j] = value == false and "" or (type(value) == "number" and int(value) or value)
        end
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
  return compute_all()
elseif mode == "preview" then
  record(false)
  local out = compute_all()
  undo()
  return out
end
return compute_all()
