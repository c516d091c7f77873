-- wrk script for bench/ideas.sh: votes as 32 members at once, each request a member's first
-- vote for an idea (no seeded vote is theirs), so every answered request wrote one vote.
-- VOTE_COOKIES: a file with one session cookie per line; VOTE_IDEAS: how many ideas there are
-- (topic ids 4, 8, 12, ...; the first, every member's, is skipped).
local cookies = {}
for line in io.lines(os.getenv("VOTE_COOKIES")) do
  cookies[#cookies + 1] = line
end
local ideas = tonumber(os.getenv("VOTE_IDEAS"))
local threads = 0

function setup(thread)
  thread:set("id", threads)
  threads = threads + 1
end

function init(args)
  counter = 0
  failed = 0
end

function request()
  -- Unique across both threads: thread 0 takes the even numbers, thread 1 the odd.
  local i = counter * 2 + id
  counter = counter + 1
  local member = i % #cookies
  local round = math.floor(i / #cookies)
  local idea = 4 * (2 + (round + member * 37) % (ideas - 1))
  return wrk.format("POST", "/api/vote", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
    ["Sec-Fetch-Site"] = "same-origin",
    ["Cookie"] = cookies[member + 1],
  }, "topic_id=" .. idea .. "&vote=up")
end
