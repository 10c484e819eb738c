-- POSTs one fixed request: BODY (the body), TARGET (X-Amz-Target, optional), CT (content type),
-- AUTH (Authorization header, optional). Non-2xx answers are counted and reported.
wrk.method = "POST"
wrk.body = os.getenv("BODY")
wrk.headers["Content-Type"] = os.getenv("CT") or "application/x-amz-json-1.1"
local target, auth = os.getenv("TARGET"), os.getenv("AUTH")
if target and target ~= "" then wrk.headers["X-Amz-Target"] = target end
if auth and auth ~= "" then wrk.headers["Authorization"] = auth end
local bad = 0
function response(status, headers, body)
  if status >= 300 then
    bad = bad + 1
    if bad == 1 then io.stderr:write("first failure: " .. status .. " " .. body:sub(1, 200) .. "\n") end
  end
end
function done(summary, latency, requests)
  io.write(string.format("non-2xx answers: %d\n", summary.errors.status))
end
