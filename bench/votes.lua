-- wrk script for bench/ideas.sh: votes as 32 members at once, each request a member's first
-- vote for an idea (no seeded vote is theirs), so every answered request wrote one vote.
-- VOTE_COOKIES: a file with one session cookie per line; VOTE_IDEAS: a file with the ids of the
-- ideas open for votes, one per line.
local cookies = {}
for line in io.lines(os.getenv("VOTE_COOKIES")) do
  cookies[#cookies + 1] = line
end
local ideas = {}
for line in io.lines(os.getenv("VOTE_IDEAS")) do
  ideas[#ideas + 1] = line
end
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
  local idea = ideas[1 + (round + member * 37) % #ideas]
  return wrk.format("POST", "/api/vote", {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Accept"] = "application/json",
    ["Sec-Fetch-Site"] = "same-origin",
    ["Cookie"] = cookies[member + 1],
  }, "topic_id=" .. idea .. "&vote=up")
end
