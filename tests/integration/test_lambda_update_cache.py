"""Invocations after UpdateFunctionConfiguration returned run the new configuration, also while
other invocations of the function were resolving it. The registry caches a function's resolved
configuration on its first invocation after a change; a resolve that read the record before an
update committed used to cache it after the update had dropped the cache, and every later
invocation ran the old configuration (GetFunctionConfiguration showed the new one), with no
expiry. The window is short, so invocations run throughout several updates; with a 1 s sleep put
between a resolve's store read and its caching, this test failed every time without the fix."""
import json
import threading
import time

from conftest import create_function, in_threads, make_client

ROUNDS = 4
CODE = {"app.py": "import os\n\ndef handler(event, context):\n    return int(os.environ['VAL'])\n"}


def test_invocations_after_an_update_run_it(lambda_server):
    lam = make_client(lambda_server, "lambda")
    create_function(lam, "update-cache", CODE, Environment={"Variables": {"VAL": "0"}})
    seen = []  # (monotonic time the invocation was sent, the configuration it ran)
    stop = threading.Event()

    def invoker():
        client = make_client(lambda_server, "lambda")
        while not stop.is_set():
            sent = time.monotonic()
            out = client.invoke(FunctionName="update-cache")
            assert "FunctionError" not in out
            seen.append((sent, json.loads(out["Payload"].read())))

    updated = []  # (monotonic time the update was in effect, its value)
    with in_threads(invoker, 2, stop):
        for v in range(1, ROUNDS + 1):
            lam.update_function_configuration(FunctionName="update-cache",
                                              Environment={"Variables": {"VAL": str(v)}})
            lam.get_waiter("function_updated_v2").wait(FunctionName="update-cache",
                                                       WaiterConfig={"Delay": 1, "MaxAttempts": 30})
            updated.append((time.monotonic(), v))
            time.sleep(1.5)
    stale = [(sent, got, v) for sent, got in seen for at, v in updated if sent > at and got < v]
    assert not stale, f"{len(stale)} invocations sent after an update ran an older one: {stale[:5]}"
    assert seen[-1][1] == ROUNDS
