-- wrk script: PUT objects of SIZE bytes to /BUCKET/<random key> (unsigned, path style).
local size = tonumber(os.getenv("SIZE") or "4096")
local bucket = os.getenv("BUCKET") or "bench"
local body = string.rep("s", size)
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function()
  n = n + 1
  local key = string.format("/%s/put-%d-%d", bucket, math.random(1, 1e9), n)
  return wrk.format("PUT", key, { ["Content-Type"] = "application/octet-stream" }, body)
end
response = function(status, headers, body)
  if status ~= 200 then error("PUT answered " .. status) end
end
