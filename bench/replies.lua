-- wrk script for bench/scale.sh: every request posts a reply form as a browser does without
-- JavaScript (a same-origin form post, answered with a redirect to the new post). The signed-in
-- writers' cookies come one a line from the file named after `--`; each thread takes its share
-- of them and the requests go round them, into topics 2..(2 + spread) in turn, so the writers
-- reply to many topics as members do (topic 1 is the read benchmark's page).
-- usage: wrk -tN -s bench/replies.lua URL/api/reply -- COOKIE_FILE SPREAD N
local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("id", thread_number)
  table.insert(threads, thread)
end

local cookies = {}
local spread = 1000
local sent = 0
-- Answers that were not the redirect to a posted reply, which is the new post's address
-- (`#post-N`): a refusal redirects back with __err, or to / when no Referer was sent.
refused = 0
first_refusal = ""

local function hex(n)
  local out = {}
  for i = 1, n do out[i] = string.format("%x", math.random(0, 15)) end
  return table.concat(out)
end

local run = ""

function init(args)
  local all = {}
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(all, line) end
  end
  spread = tonumber(args[2]) or spread
  -- Thread k of n (wrk's -t, given as the third argument) takes cookies k, k+n, k+2n, ...
  local n = tonumber(args[3]) or 2
  for i = id, #all, n do table.insert(cookies, all[i]) end
  math.randomseed(os.time() * 100 + id)
  -- Each run's texts are its own: a warm-up run just before sends the same member the same
  -- topic in the same order, and the same text again within 30 s is refused as sent twice.
  run = hex(8)
end

function request()
  sent = sent + 1
  local cookie = cookies[(sent % #cookies) + 1]
  local topic = 2 + ((sent * 7 + id * 3517) % spread)
  local body = "topic_id=" .. topic ..
    "&body=Scale+bench+reply+" .. run .. "-" .. id .. "-" .. sent ..
    ":+thanks,+that+settles+it+for+our+team.+We+tried+the+steps+above+and+the+export+now+finishes+in+under+a+minute." ..
    "&form_token=" .. hex(64)
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "text/html",
    ["Sec-Fetch-Site"] = "same-origin",
    ["Cookie"] = cookie,
  }, body)
end

function response(status, headers, body)
  local location = headers["Location"] or headers["location"] or ""
  if status < 300 or status >= 400 or string.find(location, "__err", 1, true)
    or not string.find(location, "#post-", 1, true) then
    refused = refused + 1
    if first_refusal == "" then first_refusal = status .. " " .. location end
  end
end

function done(summary, latency, requests)
  local total, first = 0, ""
  for _, thread in ipairs(threads) do
    total = total + thread:get("refused")
    if first == "" then first = thread:get("first_refusal") end
  end
  io.write(string.format("Refused replies: %d %s\n", total, first))
end
