-- wrk script for bench/scale.sh: many signed-in members reading the same page, as a topic is
-- read on a forum. The members' cookies come one a line from the file named after `--`; each
-- thread takes its share of them and its requests go round them, so no two requests in a row
-- are the same member's.
-- usage: wrk -tN -s bench/readers.lua URL -- COOKIE_FILE N
local threads = {}
local thread_number = 0

function setup(thread)
  thread_number = thread_number + 1
  thread:set("id", thread_number)
  table.insert(threads, thread)
end

local cookies = {}
local sent = 0

function init(args)
  local all = {}
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(all, line) end
  end
  -- Thread k of n (wrk's -t, given as the second argument) takes cookies k, k+n, k+2n, ...
  local n = tonumber(args[2]) or 2
  for i = id, #all, n do table.insert(cookies, all[i]) end
end

function request()
  sent = sent + 1
  return wrk.format("GET", nil, {
    ["Accept"] = "text/html",
    ["Cookie"] = cookies[(sent % #cookies) + 1],
  })
end
