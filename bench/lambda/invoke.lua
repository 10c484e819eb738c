-- wrk: POST a small JSON event (the Invoke API; unsigned requests act as the default account).
wrk.method = "POST"
wrk.body = '{"hello":"world","n":42}'
wrk.headers["Content-Type"] = "application/json"
