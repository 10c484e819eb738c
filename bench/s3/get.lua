-- wrk script: GET one of KEYS objects /BUCKET/get-<i> (written beforehand by compare.sh).
local keys = tonumber(os.getenv("KEYS") or "16")
local bucket = os.getenv("BUCKET") or "bench"
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  return wrk.format("GET", string.format("/%s/get-%d", bucket, math.random(0, keys - 1)))
end
response = function(status, headers, body)
  if status ~= 200 then error("GET answered " .. status) end
end
