-- publish_batch.lua paced: all connections together send $BATCHES_PER_S PublishBatch requests per
-- second on a fixed schedule (request k is due at start + k / rate, whichever connection is
-- free sends it), so the answers' latency does not lower the rate the way a fixed pause after
-- each answer did (that reached 85-90 % of the rate asked). Behind schedule (a stall), requests
-- go out as fast as the connections allow, at most a second's backlog. $PACED_CONNS = wrk's -c.
dofile(os.getenv("BENCH_DIR") .. "/publish_batch.lua")
local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } paced_timespec;
int clock_gettime(int clk_id, paced_timespec *tp);
]]
local ts = ffi.new("paced_timespec")
local CLOCK_MONOTONIC = 1
local function now_ms()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end
local interval_ms = 1000 / tonumber(os.getenv("BATCHES_PER_S"))
local next_due = nil
function delay()
  local now = now_ms()
  if next_due == nil or next_due < now - 1000 then next_due = now end
  local wait = next_due - now
  next_due = next_due + interval_ms
  if wait < 0 then return 0 end
  return wait
end
