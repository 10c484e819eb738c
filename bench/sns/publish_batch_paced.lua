-- publish_batch.lua paced: each connection waits so that all together send about
-- $BATCHES_PER_S PublishBatch requests per second ($PACED_CONNS = wrk's -c).
dofile(os.getenv("BENCH_DIR") .. "/publish_batch.lua")
local pause_ms = tonumber(os.getenv("PACED_CONNS")) * 1000 / tonumber(os.getenv("BATCHES_PER_S"))
function delay() return pause_ms end
