-- wrk script: PUT objects of SIZE bytes to /BUCKET/<random key> (unsigned, path style).
-- Bodies of LARGE_BYTES and more are sent as one request built once per wrk thread (wrk's static
-- request: one key per thread, overwritten): a request() function would copy the whole body into
-- a fresh Lua string for every request, which doubled the generator's CPU per 100 MiB PUT and
-- measured the generator rather than the server (docs/s3.md).
local size = tonumber(os.getenv("SIZE") or "4096")
local bucket = os.getenv("BUCKET") or "bench"
local large_bytes = 8 * 1024 * 1024
local body = string.rep("s", size)
local n = 0
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
if size >= large_bytes then
  wrk.method = "PUT"
  wrk.path = string.format("/%s/put-large-%d", bucket, math.random(1, 1e9))
  wrk.headers["Content-Type"] = "application/octet-stream"
  wrk.body = body
else
  request = function()
    n = n + 1
    local key = string.format("/%s/put-%d-%d", bucket, math.random(1, 1e9), n)
    return wrk.format("PUT", key, { ["Content-Type"] = "application/octet-stream" }, body)
  end
end
response = function(status, headers, body)
  if status ~= 200 then error("PUT answered " .. status) end
end
