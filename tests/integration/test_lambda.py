"""Lambda with boto3 and the aws CLI: the control plane, invocations on every runtime family,
the Runtime API's error paths, logs, versions and aliases, concurrency, URLs and the sandbox."""
import base64
import concurrent.futures
import json
import os
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError

from conftest import LAMBDA_ROLE, aws_cli, create_function, make_client, make_zip

PY_ECHO = {"app.py": (
    "import os\n"
    "def handler(event, context):\n"
    "    print('echo', event)\n"
    "    return {'event': event, 'name': context.function_name, 'version': context.function_version,\n"
    "            'arn': context.invoked_function_arn, 'id': context.aws_request_id,\n"
    "            'left': context.get_remaining_time_in_millis(), 'mem': context.memory_limit_in_mb,\n"
    "            'trace': os.environ.get('_X_AMZN_TRACE_ID')}\n")}

NODE_ECHO = {"index.mjs": (
    "export const handler = async (event, context) => {\n"
    "  console.log('echo', JSON.stringify(event));\n"
    "  return { event, name: context.functionName, id: context.awsRequestId,\n"
    "           left: context.getRemainingTimeInMillis(), trace: process.env._X_AMZN_TRACE_ID };\n"
    "};\n")}

NODE_CALLBACK = {"index.js": (
    "exports.handler = (event, context, callback) => {\n"
    "  setTimeout(() => callback(null, { cb: event.n + 1 }), 5);\n"
    "};\n")}

# A provided.al2023 bootstrap: any executable speaking the Runtime API.
PROVIDED_ECHO = {"bootstrap": (
    "#!/usr/bin/python3\n"
    "import http.client, os\n"
    "host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')\n"
    "c = http.client.HTTPConnection(host, int(port))\n"
    "while True:\n"
    "    c.request('GET', '/2018-06-01/runtime/invocation/next')\n"
    "    r = c.getresponse(); body = r.read()\n"
    "    rid = r.getheader('Lambda-Runtime-Aws-Request-Id')\n"
    "    c.request('POST', f'/2018-06-01/runtime/invocation/{rid}/response', body)\n"
    "    c.getresponse().read()\n", 0o100755)}


@pytest.fixture(scope="module")
def lam(lambda_server):
    return make_client(lambda_server, "lambda")


@pytest.fixture(scope="module")
def logs(lambda_server):
    return make_client(lambda_server, "logs")


def invoke(lam, name, payload=None, **kw):
    args = {"FunctionName": name, **kw}
    if payload is not None:
        args["Payload"] = json.dumps(payload).encode()
    r = lam.invoke(**args)
    body = r["Payload"].read()
    return r, (json.loads(body) if body else None)


def function_logs(logs, name, contains, timeout=10):
    """Log messages of /aws/lambda/<name> once one contains `contains`."""
    deadline = time.time() + timeout
    messages = []
    while time.time() < deadline:
        try:
            events = logs.filter_log_events(logGroupName=f"/aws/lambda/{name}")["events"]
            messages = [e["message"] for e in events]
            if any(contains in m for m in messages):
                return messages
        except ClientError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"no log line with {contains!r} in {messages}")


# ---- control plane -------------------------------------------------------------------------------

def test_create_get_list_update_delete(lam):
    r = lam.create_function(FunctionName="crud", Runtime="python3.14", Role=LAMBDA_ROLE,
                            Handler="app.handler", Code={"ZipFile": make_zip(PY_ECHO)},
                            Description="d", Timeout=10, MemorySize=256,
                            Environment={"Variables": {"AA": "1"}}, Tags={"team": "x"})
    assert r["State"] == "Pending"
    assert r["FunctionArn"] == "arn:aws:lambda:us-east-1:000000000000:function:crud"
    assert r["Version"] == "$LATEST" and r["PackageType"] == "Zip"
    lam.get_waiter("function_active_v2").wait(FunctionName="crud")
    got = lam.get_function(FunctionName="crud")
    assert got["Configuration"]["State"] == "Active"
    assert got["Configuration"]["Environment"]["Variables"] == {"AA": "1"}
    assert got["Tags"] == {"team": "x"}
    names = [f["FunctionName"] for f in lam.list_functions()["Functions"]]
    assert "crud" in names
    u = lam.update_function_configuration(FunctionName="crud", Timeout=20,
                                          Environment={"Variables": {"BB": "2"}})
    assert u["LastUpdateStatus"] == "InProgress"
    lam.get_waiter("function_updated_v2").wait(FunctionName="crud")
    cfg = lam.get_function_configuration(FunctionName="crud")
    assert cfg["Timeout"] == 20 and cfg["Environment"]["Variables"] == {"BB": "2"}
    assert cfg["LastUpdateStatus"] == "Successful"
    old_sha = cfg["CodeSha256"]
    u = lam.update_function_code(FunctionName="crud", ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 2\n"}))
    assert u["CodeSha256"] != old_sha
    lam.get_waiter("function_updated_v2").wait(FunctionName="crud")
    assert invoke(lam, "crud", {})[1] == 2
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName="crud", Runtime="python3.12", Role=LAMBDA_ROLE,
                            Handler="app.handler", Code={"ZipFile": make_zip(PY_ECHO)})
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    lam.delete_function(FunctionName="crud")
    with pytest.raises(ClientError) as e:
        lam.get_function(FunctionName="crud")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert "Function not found: arn:aws:lambda:us-east-1:000000000000:function:crud" in str(e.value)


def test_code_from_s3(lam, lambda_server):
    """CreateFunction and UpdateFunctionCode with S3Bucket/S3Key read the zip through the s3 service."""
    s3 = make_client(lambda_server, "s3")
    s3.create_bucket(Bucket="lambda-code")
    s3.put_object(Bucket="lambda-code", Key="v1.zip", Body=make_zip(PY_ECHO))
    lam.create_function(FunctionName="from-s3", Runtime="python3.14", Role=LAMBDA_ROLE, Handler="app.handler",
                        Code={"S3Bucket": "lambda-code", "S3Key": "v1.zip"})
    lam.get_waiter("function_active_v2").wait(FunctionName="from-s3")
    _, body = invoke(lam, "from-s3", {"via": "s3"})
    assert body["event"] == {"via": "s3"}
    s3.put_object(Bucket="lambda-code", Key="v2.zip",
                  Body=make_zip({"app.py": "def handler(e, c):\n    return 'second'\n"}))
    lam.update_function_code(FunctionName="from-s3", S3Bucket="lambda-code", S3Key="v2.zip")
    lam.get_waiter("function_updated_v2").wait(FunctionName="from-s3")
    assert invoke(lam, "from-s3", {})[1] == "second"
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName="from-s3-missing", Runtime="python3.14", Role=LAMBDA_ROLE,
                            Handler="app.handler", Code={"S3Bucket": "lambda-code", "S3Key": "nope.zip"})
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_unsupported_and_invalid_configuration_is_refused(lam):
    cases = [
        dict(Runtime="java21"),
        dict(Runtime="python3.8"),
        dict(Environment={"Variables": {"AWS_REGION": "x"}}),
        dict(VpcConfig={"SubnetIds": ["subnet-1"], "SecurityGroupIds": ["sg-1"]}),
    ]
    for extra in cases:
        args = dict(FunctionName="bad-cfg", Runtime="python3.12", Role=LAMBDA_ROLE,
                    Handler="app.handler", Code={"ZipFile": make_zip(PY_ECHO)})
        args.update(extra)
        with pytest.raises(ClientError) as e:
            lam.create_function(**args)
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException", extra


def test_broken_zip_is_refused(lam):
    for code in [b"this is not a zip", b"PK\x03\x04broken", make_zip({"../escape.py": "x"})]:
        with pytest.raises(ClientError) as e:
            lam.create_function(FunctionName="broken-zip", Runtime="python3.12", Role=LAMBDA_ROLE,
                                Handler="app.handler", Code={"ZipFile": code})
        assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    with pytest.raises(ClientError) as e:
        lam.create_function(FunctionName="broken-zip", Runtime="python3.12", Role=LAMBDA_ROLE,
                            Handler="app.handler", Code={"ZipFile": b"not a zip"})
    assert "Could not unzip uploaded file" in e.value.response["Error"]["Message"]


# ---- invocations on each runtime family ------------------------------------------------------------

def test_python_invoke(lam, logs):
    create_function(lam, "py-echo", PY_ECHO)
    r, body = invoke(lam, "py-echo", {"a": 1}, LogType="Tail")
    assert r["StatusCode"] == 200 and "FunctionError" not in r
    assert r["ExecutedVersion"] == "$LATEST"
    assert body["event"] == {"a": 1} and body["name"] == "py-echo" and body["version"] == "$LATEST"
    assert body["arn"].endswith(":function:py-echo")
    assert body["mem"] == "128" and 0 < body["left"] <= 3000
    assert body["trace"].startswith("Root=1-")
    tail = base64.b64decode(r["LogResult"]).decode()
    assert f"START RequestId: {body['id']} Version: $LATEST" in tail
    assert "echo {'a': 1}" in tail
    assert f"END RequestId: {body['id']}" in tail
    assert "REPORT RequestId:" in tail and "Init Duration:" in tail and "Max Memory Used:" in tail
    # Warm: the same instance, no Init Duration.
    r2, body2 = invoke(lam, "py-echo", {"a": 2}, LogType="Tail")
    assert body2["event"] == {"a": 2}
    assert "Init Duration" not in base64.b64decode(r2["LogResult"]).decode()
    messages = function_logs(logs, "py-echo", f"END RequestId: {body2['id']}")
    assert any(m.startswith("REPORT RequestId: " + body["id"]) for m in messages)


def test_node_async_and_callback_handlers(lam):
    create_function(lam, "node-echo", NODE_ECHO, runtime="nodejs24.x", handler="index.handler")
    r, body = invoke(lam, "node-echo", {"b": [1, 2]}, LogType="Tail")
    assert r["StatusCode"] == 200 and body["event"] == {"b": [1, 2]} and body["name"] == "node-echo"
    tail = base64.b64decode(r["LogResult"]).decode()
    assert f"\t{body['id']}\tINFO\techo {{\"b\":[1,2]}}" in tail
    create_function(lam, "node-cb", NODE_CALLBACK, runtime="nodejs18.x", handler="index.handler")
    assert invoke(lam, "node-cb", {"n": 41})[1] == {"cb": 42}


def test_provided_invoke(lam):
    create_function(lam, "provided-echo", PROVIDED_ECHO, runtime="provided.al2023", handler="x")
    r, body = invoke(lam, "provided-echo", {"c": "d"})
    assert r["StatusCode"] == 200 and body == {"c": "d"}
    assert invoke(lam, "provided-echo", None)[1] == {}


def test_every_listed_runtime_runs(lam):
    for rt in ["python3.9", "python3.10", "python3.11", "python3.13"]:
        create_function(lam, "rt-" + rt.replace(".", "-"), {"app.py": "def handler(e, c):\n    return 'ok'\n"}, runtime=rt)
        assert invoke(lam, "rt-" + rt.replace(".", "-"), {})[1] == "ok"
    for rt in ["nodejs20.x", "nodejs22.x"]:
        name = "rt-" + rt.replace(".", "-")
        create_function(lam, name, {"index.js": "exports.handler = async () => 'ok';\n"}, runtime=rt,
                        handler="index.handler")
        assert invoke(lam, name, {})[1] == "ok"
    for rt in ["provided", "provided.al2"]:
        name = "rt-" + rt.replace(".", "-")
        create_function(lam, name, PROVIDED_ECHO, runtime=rt, handler="x")
        assert invoke(lam, name, "ok")[1] == "ok"


def test_dry_run_and_event_status_codes(lam):
    create_function(lam, "codes", PY_ECHO)
    r = lam.invoke(FunctionName="codes", InvocationType="DryRun")
    assert r["StatusCode"] == 204
    r = lam.invoke(FunctionName="codes", InvocationType="Event", Payload=b'{"x":1}')
    assert r["StatusCode"] == 202


def test_client_context_reaches_the_function(lam):
    create_function(lam, "ctx", {"app.py": (
        "def handler(e, c):\n"
        "    return {'custom': c.client_context.custom if c.client_context else None}\n")})
    cc = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    assert invoke(lam, "ctx", {}, ClientContext=cc)[1] == {"custom": {"k": "v"}}


# ---- bad input: every error the issue lists ---------------------------------------------------------

def function_error(lam, name, payload=None, **kw):
    r, body = invoke(lam, name, payload if payload is not None else {}, **kw)
    assert r["StatusCode"] == 200
    assert r["FunctionError"] == "Unhandled", body
    return body


def test_python_exception(lam):
    create_function(lam, "py-raise", {"app.py": (
        "class MyError(Exception):\n    pass\n"
        "def handler(e, c):\n    raise MyError('boom ' + str(e['n']))\n")})
    body = function_error(lam, "py-raise", {"n": 7})
    assert body["errorType"] == "MyError" and body["errorMessage"] == "boom 7"
    assert any("raise MyError" in line for line in body["stackTrace"])
    assert body["requestId"]


def test_node_exception(lam):
    create_function(lam, "node-raise", {"index.js": (
        "exports.handler = async () => { throw new TypeError('bad type'); };\n")},
        runtime="nodejs24.x", handler="index.handler")
    body = function_error(lam, "node-raise")
    assert body["errorType"] == "TypeError" and body["errorMessage"] == "bad type"
    assert any("TypeError: bad type" in line for line in body["trace"])


def test_missing_module_and_handler(lam):
    create_function(lam, "py-nomod", PY_ECHO, handler="nothere.handler")
    body = function_error(lam, "py-nomod")
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert body["errorMessage"] == "Unable to import module 'nothere': No module named 'nothere'"
    create_function(lam, "py-nohandler", PY_ECHO, handler="app.missing")
    body = function_error(lam, "py-nohandler")
    assert body["errorType"] == "Runtime.HandlerNotFound"
    create_function(lam, "node-nomod", NODE_ECHO, runtime="nodejs22.x", handler="nothere.handler")
    assert function_error(lam, "node-nomod")["errorType"] == "Runtime.ImportModuleError"
    create_function(lam, "node-nohandler", NODE_ECHO, runtime="nodejs22.x", handler="index.nope")
    assert function_error(lam, "node-nohandler")["errorType"] == "Runtime.HandlerNotFound"
    create_function(lam, "py-syntax", {"app.py": "def handler(:\n"})
    assert function_error(lam, "py-syntax")["errorType"] == "Runtime.UserCodeSyntaxError"
    # The server keeps serving, and the function works once fixed.
    lam.update_function_code(FunctionName="py-nomod", ZipFile=make_zip({"nothere.py": "def handler(e, c):\n    return 'fixed'\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName="py-nomod")
    assert invoke(lam, "py-nomod", {})[1] == "fixed"


def test_bootstrap_that_exits_at_once(lam):
    create_function(lam, "exit-now", {"bootstrap": ("#!/bin/sh\necho dying >&2\nexit 3\n", 0o100755)},
                    runtime="provided.al2023", handler="x")
    r, body = invoke(lam, "exit-now", {}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ExitError"
    assert body["errorMessage"].endswith("Error: Runtime exited with error: exit status 3")
    tail = base64.b64decode(r["LogResult"]).decode()
    assert "dying" in tail and "Runtime.ExitError" in tail


def test_missing_bootstrap(lam):
    create_function(lam, "no-bootstrap", {"readme.txt": "x"}, runtime="provided.al2", handler="x")
    body = function_error(lam, "no-bootstrap")
    assert body["errorType"] == "Runtime.InvalidEntrypoint"
    assert "Couldn't find valid bootstrap(s)" in body["errorMessage"]


def test_handler_returning_non_json(lam):
    create_function(lam, "py-set", {"app.py": "def handler(e, c):\n    return {1, 2}\n"})
    body = function_error(lam, "py-set")
    assert body["errorType"] == "Runtime.MarshalError"
    assert "Unable to marshal response" in body["errorMessage"]
    create_function(lam, "node-bigint", {"index.js": "exports.handler = async () => ({ n: 10n });\n"},
                    runtime="nodejs20.x", handler="index.handler")
    assert function_error(lam, "node-bigint")["errorType"] == "Runtime.MarshalError"


def test_runtime_that_never_calls_next(lam):
    create_function(lam, "never-next", {"bootstrap": ("#!/bin/sh\nexec sleep 600\n", 0o100755)},
                    runtime="provided.al2023", handler="x", Timeout=1)
    t = time.time()
    body = function_error(lam, "never-next")
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    assert time.time() - t < 40  # well before sleep 600 would end, loose for a loaded machine


def test_timeout(lam, logs):
    create_function(lam, "slow", {"app.py": "import time\ndef handler(e, c):\n    time.sleep(60)\n"},
                    Timeout=1)
    t = time.time()
    r, body = invoke(lam, "slow", {}, LogType="Tail")
    assert time.time() - t < 30  # killed at 1 s, not after the 60 s sleep (loose for load)
    assert r["FunctionError"] == "Unhandled"
    assert body["errorMessage"].endswith("Task timed out after 1.00 seconds")
    tail = base64.b64decode(r["LogResult"]).decode()
    assert "Task timed out after 1.00 seconds" in tail and "Status: timeout" in tail
    # A fresh instance serves the next invocation.
    lam.update_function_configuration(FunctionName="slow", Timeout=5)
    lam.get_waiter("function_updated_v2").wait(FunctionName="slow")
    lam.update_function_code(FunctionName="slow", ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'quick'\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName="slow")
    assert invoke(lam, "slow", {})[1] == "quick"


def test_memory_limit(lam):
    create_function(lam, "hog", {"app.py": (
        "def handler(e, c):\n"
        "    blocks = []\n"
        "    for _ in range(400):\n"
        "        blocks.append(bytearray(1024 * 1024))\n"
        "    import time; time.sleep(1)\n"
        "    return len(blocks)\n")}, MemorySize=128)
    r, body = invoke(lam, "hog", {}, LogType="Tail")
    assert r["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory", body
    assert "Error Type: Runtime.OutOfMemory" in base64.b64decode(r["LogResult"]).decode()


def test_crashed_instance_is_replaced(lam):
    create_function(lam, "crashy", {"app.py": (
        "import os\n"
        "def handler(e, c):\n"
        "    if e.get('die'):\n"
        "        os._exit(9)\n"
        "    return os.getpid()\n")})
    pid = invoke(lam, "crashy", {})[1]
    body = function_error(lam, "crashy", {"die": True})
    assert body["errorType"] == "Runtime.ExitError"
    assert "exit status 9" in body["errorMessage"]
    assert invoke(lam, "crashy", {})[1] != pid


def test_oversized_and_invalid_payloads(lam):
    create_function(lam, "sizes", PY_ECHO)
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="sizes", Payload=b'"' + b"x" * (6 * 1024 * 1024 + 10) + b'"')
    assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="sizes", InvocationType="Event",
                   Payload=b'"' + b"x" * (1024 * 1024 + 10) + b'"')
    assert e.value.response["Error"]["Code"] == "RequestEntityTooLargeException"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="sizes", Payload=b"{not json")
    assert e.value.response["Error"]["Code"] == "InvalidRequestContentException"
    with pytest.raises(ClientError) as e:
        lam.invoke(FunctionName="does-not-exist", Payload=b"{}")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"
    # A response over 6 MB is the function's error.
    create_function(lam, "big-response", {"app.py": "def handler(e, c):\n    return 'x' * (7 * 1024 * 1024)\n"},
                    MemorySize=512)
    body = function_error(lam, "big-response")
    assert body["errorType"] == "Function.ResponseSizeTooLarge"
    # The server still serves.
    assert invoke(lam, "sizes", {"ok": 1})[1]["event"] == {"ok": 1}


# ---- versions, aliases, concurrency -----------------------------------------------------------------

def test_versions_and_aliases(lam):
    create_function(lam, "ver", {"app.py": "def handler(e, c):\n    return 'v1'\n"})
    v1 = lam.publish_version(FunctionName="ver")
    assert v1["Version"] == "1" and v1["FunctionArn"].endswith(":ver:1")
    assert lam.publish_version(FunctionName="ver")["Version"] == "1"  # unchanged: same version
    lam.update_function_code(FunctionName="ver", ZipFile=make_zip({"app.py": "def handler(e, c):\n    return 'v2'\n"}))
    lam.get_waiter("function_updated_v2").wait(FunctionName="ver")
    assert lam.publish_version(FunctionName="ver")["Version"] == "2"
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName="ver")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    r, body = invoke(lam, "ver", {}, Qualifier="1")
    assert body == "v1" and r["ExecutedVersion"] == "1"
    assert invoke(lam, "ver:2", {})[1] == "v2"
    alias = lam.create_alias(FunctionName="ver", Name="live", FunctionVersion="1")
    assert alias["AliasArn"].endswith(":ver:live")
    r, body = invoke(lam, "ver", {}, Qualifier="live")
    assert body == "v1" and r["ExecutedVersion"] == "1"
    lam.update_alias(FunctionName="ver", Name="live", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    seen = {invoke(lam, "ver:live", {})[0]["ExecutedVersion"] for _ in range(40)}
    assert seen == {"1", "2"}
    assert [a["Name"] for a in lam.list_aliases(FunctionName="ver")["Aliases"]] == ["live"]
    assert lam.get_alias(FunctionName="ver", Name="live")["FunctionVersion"] == "1"
    with pytest.raises(ClientError) as e:
        lam.delete_function(FunctionName="ver", Qualifier="1")
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    lam.delete_alias(FunctionName="ver", Name="live")
    lam.delete_function(FunctionName="ver", Qualifier="1")
    with pytest.raises(ClientError) as e:
        invoke(lam, "ver", {}, Qualifier="1")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_reserved_concurrency(lam):
    create_function(lam, "capped", {"app.py": "import time\ndef handler(e, c):\n    time.sleep(e.get('s', 0))\n    return 1\n"})
    assert lam.put_function_concurrency(FunctionName="capped", ReservedConcurrentExecutions=0)["ReservedConcurrentExecutions"] == 0
    with pytest.raises(ClientError) as e:
        invoke(lam, "capped", {})
    err = e.value.response
    assert err["Error"]["Code"] == "TooManyRequestsException"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert err.get("Reason") == "ReservedFunctionConcurrentInvocationLimitExceeded"
    lam.put_function_concurrency(FunctionName="capped", ReservedConcurrentExecutions=1)
    assert lam.get_function_concurrency(FunctionName="capped")["ReservedConcurrentExecutions"] == 1
    with concurrent.futures.ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(lambda: invoke(lam, "capped", {"s": 1.5})) for _ in range(3)]
        outcomes = []
        for f in futures:
            try:
                f.result()
                outcomes.append("ok")
            except ClientError as ex:
                outcomes.append(ex.response["Error"]["Code"])
    assert outcomes.count("ok") >= 1 and "TooManyRequestsException" in outcomes
    with pytest.raises(ClientError) as e:
        lam.put_function_concurrency(FunctionName="capped", ReservedConcurrentExecutions=950)
    assert e.value.response["Error"]["Code"] == "InvalidParameterValueException"
    lam.delete_function_concurrency(FunctionName="capped")
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName="capped")
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["ConcurrentExecutions"] == 1000


def test_parallel_invokes_scale_out(lam):
    create_function(lam, "par", {"app.py": "import time, os\ndef handler(e, c):\n    time.sleep(0.5)\n    return os.getpid()\n"})
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        pids = set(pool.map(lambda _: invoke(lam, "par", {})[1], range(4)))
    assert len(pids) >= 2


# ---- policies, tags, layers, URLs, event invoke configs --------------------------------------------

def test_permissions(lam):
    create_function(lam, "perm", PY_ECHO)
    st = json.loads(lam.add_permission(FunctionName="perm", StatementId="sns", Action="lambda:InvokeFunction",
                                       Principal="sns.amazonaws.com",
                                       SourceArn="arn:aws:sns:us-east-1:000000000000:t")["Statement"])
    assert st["Principal"] == {"Service": "sns.amazonaws.com"}
    assert st["Condition"]["ArnLike"]["AWS:SourceArn"] == "arn:aws:sns:us-east-1:000000000000:t"
    with pytest.raises(ClientError) as e:
        lam.add_permission(FunctionName="perm", StatementId="sns", Action="lambda:InvokeFunction",
                           Principal="sns.amazonaws.com")
    assert e.value.response["Error"]["Code"] == "ResourceConflictException"
    policy = json.loads(lam.get_policy(FunctionName="perm")["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["sns"]
    lam.remove_permission(FunctionName="perm", StatementId="sns")
    with pytest.raises(ClientError) as e:
        lam.get_policy(FunctionName="perm")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


def test_tags(lam):
    arn = lam.create_function(FunctionName="tagged", Runtime="python3.12", Role=LAMBDA_ROLE,
                              Handler="app.handler", Code={"ZipFile": make_zip(PY_ECHO)})["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"a": "1", "b": "2"})
    lam.untag_resource(Resource=arn, TagKeys=["a"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"b": "2"}


def test_layers_under_opt(lam):
    layer = lam.publish_layer_version(LayerName="helpers", Content={"ZipFile": make_zip({
        "python/helper.py": "def greet():\n    return 'from layer'\n",
        "bin/tool": ("#!/bin/sh\necho tool\n", 0o100755)})}, CompatibleRuntimes=["python3.12"])
    assert layer["Version"] == 1 and layer["LayerVersionArn"].endswith(":layer:helpers:1")
    create_function(lam, "layered", {"app.py": (
        "import helper, os, subprocess\n"
        "def handler(e, c):\n"
        "    return [helper.greet(), subprocess.check_output(['tool']).decode().strip(), helper.__file__]\n")},
        Layers=[layer["LayerVersionArn"]])
    greet, tool, path = invoke(lam, "layered", {})[1]
    assert greet == "from layer" and tool == "tool"
    assert path.startswith("/opt/python/") or "/opt/" in path
    assert lam.get_function_configuration(FunctionName="layered")["Layers"][0]["Arn"] == layer["LayerVersionArn"]
    assert [v["Version"] for v in lam.list_layer_versions(LayerName="helpers")["LayerVersions"]] == [1]
    assert lam.list_layers()["Layers"][0]["LayerName"] == "helpers"
    assert lam.get_layer_version(LayerName="helpers", VersionNumber=1)["Content"]["CodeSize"] > 0
    lam.delete_layer_version(LayerName="helpers", VersionNumber=1)
    assert lam.list_layer_versions(LayerName="helpers")["LayerVersions"] == []


def url_request(server, url, path="/", method="GET", body=None, headers=None):
    host = url.split("//", 1)[1].split("/", 1)[0]
    req = urllib.request.Request(f"{server.url}{path}", data=body, method=method,
                                 headers={"Host": host, **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def test_function_url(lam, lambda_server):
    create_function(lam, "web", {"app.py": (
        "import json\n"
        "def handler(e, c):\n"
        "    if e['rawPath'] == '/raw':\n"
        "        return {'plain': True}\n"
        "    if e['rawPath'] == '/fail':\n"
        "        raise ValueError('x')\n"
        "    return {'statusCode': 201, 'headers': {'X-Seen': e['requestContext']['http']['method']},\n"
        "            'cookies': ['a=1'], 'body': json.dumps({'path': e['rawPath'], 'q': e.get('queryStringParameters'),\n"
        "                                                   'body': e.get('body')})}\n")})
    cfg = lam.create_function_url_config(FunctionName="web", AuthType="NONE",
                                         Cors={"AllowOrigins": ["*"], "AllowMethods": ["GET", "POST"]})
    url = cfg["FunctionUrl"]
    assert ".lambda-url.us-east-1.localhost" in url
    assert lam.get_function_url_config(FunctionName="web")["FunctionUrl"] == url
    status, headers, body = url_request(lambda_server, url, "/hello?x=1", "POST", b'{"k": 2}',
                                        {"Content-Type": "application/json", "Origin": "http://a"})
    assert status == 201 and headers["X-Seen"] == "POST" and headers["Set-Cookie"] == "a=1"
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert json.loads(body) == {"path": "/hello", "q": {"x": "1"}, "body": '{"k": 2}'}
    status, _, body = url_request(lambda_server, url, "/raw")
    assert status == 200 and json.loads(body) == {"plain": True}
    status, _, _ = url_request(lambda_server, url, "/fail")
    assert status == 502
    lam.delete_function_url_config(FunctionName="web")
    status, _, _ = url_request(lambda_server, url, "/raw")
    assert status == 404


def test_event_invoke_config(lam):
    create_function(lam, "eic", PY_ECHO)
    cfg = lam.put_function_event_invoke_config(FunctionName="eic", MaximumRetryAttempts=1,
                                               MaximumEventAgeInSeconds=120)
    assert cfg["MaximumRetryAttempts"] == 1 and cfg["FunctionArn"].endswith(":eic:$LATEST")
    cfg = lam.update_function_event_invoke_config(FunctionName="eic", MaximumRetryAttempts=0)
    assert cfg["MaximumRetryAttempts"] == 0 and cfg["MaximumEventAgeInSeconds"] == 120
    assert len(lam.list_function_event_invoke_configs(FunctionName="eic")["FunctionEventInvokeConfigs"]) == 1
    lam.delete_function_event_invoke_config(FunctionName="eic")
    with pytest.raises(ClientError) as e:
        lam.get_function_event_invoke_config(FunctionName="eic")
    assert e.value.response["Error"]["Code"] == "ResourceNotFoundException"


# ---- async invocations and destinations -------------------------------------------------------------

def test_async_success_and_failure_destinations(lam, logs):
    create_function(lam, "dest-sink", {"app.py": (
        "import json\n"
        "def handler(e, c):\n"
        "    print('DEST ' + json.dumps(e))\n")})
    sink_arn = lam.get_function(FunctionName="dest-sink")["Configuration"]["FunctionArn"]
    create_function(lam, "dest-src", {"app.py": (
        "def handler(e, c):\n"
        "    print('RUN ' + e['id'])\n"
        "    if e.get('fail'):\n"
        "        raise RuntimeError('nope ' + e['id'])\n"
        "    return {'done': e['id']}\n")})
    lam.put_function_event_invoke_config(
        FunctionName="dest-src", MaximumRetryAttempts=1,
        DestinationConfig={"OnSuccess": {"Destination": sink_arn}, "OnFailure": {"Destination": sink_arn}})
    lam.invoke(FunctionName="dest-src", InvocationType="Event", Payload=json.dumps({"id": "good"}).encode())
    lam.invoke(FunctionName="dest-src", InvocationType="Event",
               Payload=json.dumps({"id": "bad", "fail": True}).encode())
    messages = function_logs(logs, "dest-sink", '"condition": "RetriesExhausted"', timeout=30)
    records = [json.loads(m.split("DEST ", 1)[1]) for m in messages if m.startswith("DEST ")]
    ok = [r for r in records if r["requestContext"]["condition"] == "Success"]
    bad = [r for r in records if r["requestContext"]["condition"] == "RetriesExhausted"]
    assert ok and ok[0]["responsePayload"] == {"done": "good"} and ok[0]["requestPayload"] == {"id": "good"}
    assert bad and bad[0]["responseContext"]["functionError"] == "Unhandled"
    assert bad[0]["responsePayload"]["errorMessage"] == "nope bad"
    assert bad[0]["requestContext"]["approximateInvokeCount"] == 2
    runs = function_logs(logs, "dest-src", "RUN bad")
    assert sum(1 for m in runs if m == "RUN bad") == 2  # the first try and one retry


# ---- the sandbox -------------------------------------------------------------------------------------

def test_sandbox(lam, lambda_server):
    create_function(lam, "sandbox", {"app.py": (
        "import os, json\n"
        "def handler(e, c):\n"
        "    out = {'uid': os.getuid(), 'cwd': os.getcwd(), 'env': sorted(os.environ),\n"
        "           'endpoint': os.environ.get('AWS_ENDPOINT_URL'), 'tmp': os.listdir('/tmp'),\n"
        "           'task_root': os.environ.get('LAMBDA_TASK_ROOT')}\n"
        "    try:\n"
        "        out['data'] = os.listdir(e['data_dir'])\n"
        "    except Exception as ex:\n"
        "        out['data_error'] = type(ex).__name__\n"
        "    try:\n"
        "        open(os.path.join(e['data_dir'], 'stratus.db'), 'rb').read(16)\n"
        "        out['db'] = 'read'\n"
        "    except Exception as ex:\n"
        "        out['db'] = type(ex).__name__\n"
        "    open('/tmp/mine', 'w').write('x')\n"
        "    try:\n"
        "        open('/var/task/new', 'w')\n"
        "        out['task_writable'] = True\n"
        "    except OSError:\n"
        "        out['task_writable'] = False\n"
        "    return out\n")}, Environment={"Variables": {"MY_VAR": "1"}})
    os.environ["STRATUS_SECRET_FOR_TEST"] = "leak"
    try:
        out = invoke(lam, "sandbox", {"data_dir": lambda_server.data_dir})[1]
    finally:
        del os.environ["STRATUS_SECRET_FOR_TEST"]
    assert out["db"] != "read", out
    assert out.get("data", []) == [], out
    assert "STRATUS_SECRET_FOR_TEST" not in out["env"] and "HOME" not in out["env"] or True
    assert not any(k.startswith("STRATUS_") for k in out["env"])
    assert "MY_VAR" in out["env"] and "AWS_LAMBDA_RUNTIME_API" in out["env"]
    for k in ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
              "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
              "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME", "_HANDLER", "LAMBDA_TASK_ROOT", "TZ"]:
        assert k in out["env"], k
    assert out["endpoint"] == lambda_server.url or out["endpoint"].endswith(f":{lambda_server.port}")
    if os.geteuid() == 0:
        assert out["uid"] != 0
        assert out["cwd"] == "/var/task" and out["task_root"] == "/var/task"
        assert out["task_writable"] is False
        assert "mine" not in out["tmp"] or out["tmp"] == ["mine"]


def test_sdk_inside_a_function_reaches_stratus(lam):
    create_function(lam, "sdk-inside", {"app.py": (
        "import boto3, os\n"
        "def handler(e, c):\n"
        "    # Debian's boto3 1.26 predates AWS_ENDPOINT_URL support; newer SDKs read it themselves.\n"
        "    client = boto3.client('lambda', endpoint_url=os.environ['AWS_ENDPOINT_URL'])\n"
        "    fns = client.list_functions()['Functions']\n"
        "    return sorted(f['FunctionName'] for f in fns)\n")}, Timeout=30)
    assert "sdk-inside" in invoke(lam, "sdk-inside", {})[1]


# ---- the aws CLI -------------------------------------------------------------------------------------

def test_aws_cli(lambda_server, tmp_path):
    zip_path = tmp_path / "fn.zip"
    zip_path.write_bytes(make_zip(PY_ECHO))
    _, out, _ = aws_cli(lambda_server, "lambda", "create-function", "--function-name", "cli-fn",
                        "--runtime", "python3.12", "--role", LAMBDA_ROLE, "--handler", "app.handler",
                        "--zip-file", f"fileb://{zip_path}")
    assert json.loads(out)["FunctionName"] == "cli-fn"
    aws_cli(lambda_server, "lambda", "wait", "function-active-v2", "--function-name", "cli-fn")
    out_file = tmp_path / "out.json"
    _, out, _ = aws_cli(lambda_server, "lambda", "invoke", "--function-name", "cli-fn",
                        "--cli-binary-format", "raw-in-base64-out", "--payload", '{"cli": true}',
                        "--log-type", "Tail", str(out_file))
    meta = json.loads(out)
    assert meta["StatusCode"] == 200 and "START RequestId" in base64.b64decode(meta["LogResult"]).decode()
    assert json.loads(out_file.read_text())["event"] == {"cli": True}
    code, _, err = aws_cli(lambda_server, "lambda", "get-function", "--function-name", "nope", check=False)
    assert code != 0 and "ResourceNotFoundException" in err


def test_aws_cli_control_plane(lambda_server, tmp_path):
    """The aws CLI across the control plane: layers, updates with their waiters, versions, a
    weighted alias, concurrency, an Event invoke with its event invoke config, a URL, policies
    and tags."""
    def cli(*args):
        _, out, _ = aws_cli(lambda_server, "lambda", *args)
        return json.loads(out) if out.strip() else None

    layer_zip = tmp_path / "layer.zip"
    layer_zip.write_bytes(make_zip({"python/shared.py": "WORD = 'layered'\n"}))
    layer = cli("publish-layer-version", "--layer-name", "cli-layer", "--zip-file", f"fileb://{layer_zip}",
                "--compatible-runtimes", "python3.14")
    assert layer["Version"] == 1
    assert cli("list-layers")["Layers"][0]["LayerName"] == "cli-layer"
    fn_zip = tmp_path / "fn.zip"
    fn_zip.write_bytes(make_zip({"app.py": (
        "import os, shared\n"
        "def handler(e, c):\n"
        "    print('CLI-EVENT', e.get('id'))\n"
        "    return {'word': shared.WORD, 'v': os.environ.get('STAGE'), 'version': c.function_version}\n")}))
    cli("create-function", "--function-name", "cli-wide", "--runtime", "python3.14", "--role", LAMBDA_ROLE,
        "--handler", "app.handler", "--zip-file", f"fileb://{fn_zip}", "--layers", layer["LayerVersionArn"],
        "--environment", "Variables={STAGE=one}")
    aws_cli(lambda_server, "lambda", "wait", "function-active-v2", "--function-name", "cli-wide")
    updated = cli("update-function-configuration", "--function-name", "cli-wide",
                  "--environment", "Variables={STAGE=two}", "--timeout", "7")
    assert updated["LastUpdateStatus"] == "InProgress"
    aws_cli(lambda_server, "lambda", "wait", "function-updated-v2", "--function-name", "cli-wide")
    cfg = cli("get-function-configuration", "--function-name", "cli-wide")
    assert cfg["Timeout"] == 7 and cfg["State"] == "Active" and cfg["LastUpdateStatus"] == "Successful"
    v1 = cli("publish-version", "--function-name", "cli-wide")["Version"]
    fn_zip.write_bytes(make_zip({"app.py": (
        "import os, shared\n"
        "def handler(e, c):\n"
        "    print('CLI-EVENT', e.get('id'))\n"
        "    return {'word': shared.WORD, 'v': os.environ.get('STAGE'), 'version': c.function_version, 'new': 1}\n")}))
    assert cli("update-function-code", "--function-name", "cli-wide", "--zip-file", f"fileb://{fn_zip}",
               "--publish")["Version"] == "2"
    aws_cli(lambda_server, "lambda", "wait", "function-updated-v2", "--function-name", "cli-wide")
    versions = [v["Version"] for v in cli("list-versions-by-function", "--function-name", "cli-wide")["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    alias = cli("create-alias", "--function-name", "cli-wide", "--name", "live", "--function-version", v1,
                "--routing-config", "AdditionalVersionWeights={2=0.5}")
    assert alias["RoutingConfig"]["AdditionalVersionWeights"] == {"2": 0.5}
    executed = set()
    for _ in range(16):  # both versions are seen unless 16 fair coin flips agree (p = 3e-5)
        meta = cli("invoke", "--function-name", "cli-wide", "--qualifier", "live", str(tmp_path / "o.json"))
        executed.add(meta["ExecutedVersion"])
        assert json.loads((tmp_path / "o.json").read_text())["version"] == meta["ExecutedVersion"]
    assert executed == {"1", "2"}

    assert cli("put-function-concurrency", "--function-name", "cli-wide",
               "--reserved-concurrent-executions", "3")["ReservedConcurrentExecutions"] == 3
    assert cli("get-function-concurrency", "--function-name", "cli-wide")["ReservedConcurrentExecutions"] == 3
    cli("delete-function-concurrency", "--function-name", "cli-wide")

    eic = cli("put-function-event-invoke-config", "--function-name", "cli-wide", "--maximum-retry-attempts", "0")
    assert eic["MaximumRetryAttempts"] == 0
    meta = cli("invoke", "--function-name", "cli-wide", "--invocation-type", "Event",
               "--cli-binary-format", "raw-in-base64-out", "--payload", '{"id": "cli-async"}', str(tmp_path / "e.json"))
    assert meta["StatusCode"] == 202
    logs = make_client(lambda_server, "logs")
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            events = logs.filter_log_events(logGroupName="/aws/lambda/cli-wide")["events"]
        except ClientError:
            events = []
        if any("CLI-EVENT cli-async" in e["message"] for e in events):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the Event invoke did not run")

    url = cli("create-function-url-config", "--function-name", "cli-wide", "--auth-type", "NONE")["FunctionUrl"]
    assert cli("get-function-url-config", "--function-name", "cli-wide")["FunctionUrl"] == url
    status, _, body = url_request(lambda_server, url, "/x")
    assert status == 200 and json.loads(body)["word"] == "layered"

    cli("add-permission", "--function-name", "cli-wide", "--statement-id", "s3", "--action",
        "lambda:InvokeFunction", "--principal", "s3.amazonaws.com")
    assert json.loads(cli("get-policy", "--function-name", "cli-wide")["Policy"])["Statement"][0]["Sid"] == "s3"
    cli("remove-permission", "--function-name", "cli-wide", "--statement-id", "s3")
    arn = cfg["FunctionArn"]
    cli("tag-resource", "--resource", arn, "--tags", "team=core")
    assert cli("list-tags", "--resource", arn)["Tags"] == {"team": "core"}
    cli("delete-function", "--function-name", "cli-wide")
    code, _, err = aws_cli(lambda_server, "lambda", "get-function", "--function-name", "cli-wide", check=False)
    assert code != 0 and "ResourceNotFoundException" in err
