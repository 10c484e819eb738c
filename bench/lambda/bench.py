#!/usr/bin/python3
"""Sets up the benchmark functions on a running stratus and measures cold starts.

  bench.py URL setup BOOTSTRAP        create provided-echo, python-echo, node-echo, node-url
  bench.py URL cold N                 cold start per runtime: median client-side latency of an
                                      invoke that has to start an instance, and the median Init
                                      Duration its REPORT line gives
Prints JSON.
"""
import base64
import io
import json
import re
import statistics
import sys
import time
import zipfile

import boto3
from botocore.config import Config

ROLE = "arn:aws:iam::000000000000:role/bench"
FUNCTIONS = {
    "provided-echo": ("provided.al2023", "echo"),
    "python-echo": ("python3.12", "app.handler"),
    "node-echo": ("nodejs20.x", "index.handler"),
}


def make_zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, (content, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, content)
    return buf.getvalue()


def client(url):
    return boto3.client("lambda", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 0}, read_timeout=60))


def setup(url, bootstrap):
    lam = client(url)
    with open(bootstrap, "rb") as f:
        codes = {
            "provided-echo": make_zip({"bootstrap": (f.read(), 0o100755)}),
            "python-echo": make_zip({"app.py": ("def handler(event, context):\n    return event\n", 0o100644)}),
            "node-echo": make_zip({"index.js": ("exports.handler = async (event) => event;\n", 0o100644)}),
        }
    for name, (runtime, handler) in FUNCTIONS.items():
        lam.create_function(FunctionName=name, Runtime=runtime, Role=ROLE, Handler=handler,
                            Code={"ZipFile": codes[name]}, MemorySize=256)
    with open(__file__.rsplit("/", 1)[0] + "/handler.js") as f:
        lam.create_function(FunctionName="node-url", Runtime="nodejs20.x", Role=ROLE,
                            Handler="handler.handler", MemorySize=256,
                            Code={"ZipFile": make_zip({"handler.js": (f.read(), 0o100644)})})
    url_cfg = lam.create_function_url_config(FunctionName="node-url", AuthType="NONE")
    for name in list(FUNCTIONS) + ["node-url"]:
        lam.invoke(FunctionName=name, Payload=b"{}")
    print(json.dumps({"url": url_cfg["FunctionUrl"]}))


def cold(url, n):
    lam = client(url)
    out = {}
    for name in FUNCTIONS:
        latencies, inits = [], []
        for i in range(n):
            # A configuration change retires the function's instances: the next invoke is cold.
            lam.update_function_configuration(FunctionName=name, Description=f"cold {i}")
            t = time.perf_counter()
            r = lam.invoke(FunctionName=name, Payload=b'{"cold":true}', LogType="Tail")
            latencies.append((time.perf_counter() - t) * 1000)
            r["Payload"].read()
            m = re.search(r"Init Duration: ([0-9.]+) ms", base64.b64decode(r["LogResult"]).decode())
            if m:
                inits.append(float(m.group(1)))
        out[name] = {"cold_invoke_ms_p50": round(statistics.median(latencies), 1),
                     "init_duration_ms_p50": round(statistics.median(inits), 1) if inits else None}
    print(json.dumps(out))


if __name__ == "__main__":
    url, cmd = sys.argv[1], sys.argv[2]
    if cmd == "setup":
        setup(url, sys.argv[3])
    else:
        cold(url, int(sys.argv[3]))
