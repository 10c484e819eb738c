"""Creates the benchmark's APIs on a running stratus and prints their data-plane URLs:
mock  — a REST API, GET /hello with a MOCK integration (stage prod)
node  — an HTTP API quick-created on a nodejs echo function (offline/handler.js)
provided — an HTTP API quick-created on a `provided.al2023` echo bootstrap: the native
           bench/apigateway/proxy_echo.c when its binary is given, else a python3 script
Usage: setup.py <stratus url> [compiled proxy_echo bootstrap]"""
import io
import json
import sys
import time
import zipfile

import boto3
from botocore.config import Config

url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
          aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}))
ag = boto3.client("apigateway", **kw)
v2 = boto3.client("apigatewayv2", **kw)
lam = boto3.client("lambda", **kw)


def zip_of(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, (content, mode) in files.items():
            info = zipfile.ZipInfo(name)
            info.external_attr = mode << 16
            zf.writestr(info, content)
    return buf.getvalue()


api = ag.create_rest_api(name="bench-mock")
rid = api["id"]
root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
res = ag.create_resource(restApiId=rid, parentId=root, pathPart="hello")
ag.put_method(restApiId=rid, resourceId=res["id"], httpMethod="GET", authorizationType="NONE")
ag.put_integration(restApiId=rid, resourceId=res["id"], httpMethod="GET", type="MOCK",
                   requestTemplates={"application/json": '{"statusCode": 200}'})
ag.put_integration_response(restApiId=rid, resourceId=res["id"], httpMethod="GET", statusCode="200",
                            responseTemplates={"application/json": '{"ok": true}'})
ag.create_deployment(restApiId=rid, stageName="prod")

handler = open(__file__.rsplit("/", 1)[0] + "/offline/handler.js").read()
bootstrap = """#!/usr/bin/python3
import http.client, os
host, port = os.environ['AWS_LAMBDA_RUNTIME_API'].split(':')
c = http.client.HTTPConnection(host, int(port))
body = b'{"statusCode": 200, "body": "ok"}'
while True:
    c.request('GET', '/2018-06-01/runtime/invocation/next')
    r = c.getresponse(); r.read()
    rid = r.getheader('Lambda-Runtime-Aws-Request-Id')
    c.request('POST', f'/2018-06-01/runtime/invocation/{rid}/response', body)
    c.getresponse().read()
"""
if len(sys.argv) > 2:
    bootstrap = open(sys.argv[2], "rb").read()
fns = {}
for name, runtime, handler_name, files in [
        ("bench-node", "nodejs18.x", "handler.handler", {"handler.js": (handler, 0o100644)}),
        ("bench-provided", "provided.al2023", "x", {"bootstrap": (bootstrap, 0o100755)})]:
    fns[name] = lam.create_function(FunctionName=name, Runtime=runtime, Handler=handler_name,
                                    Role="arn:aws:iam::000000000000:role/bench",
                                    Code={"ZipFile": zip_of(files)}, MemorySize=512,
                                    Timeout=30)["FunctionArn"]
    for _ in range(100):
        if lam.get_function(FunctionName=name)["Configuration"].get("State", "Active") == "Active":
            break
        time.sleep(0.1)
node = v2.create_api(Name="bench-node", ProtocolType="HTTP", Target=fns["bench-node"])["ApiId"]
provided = v2.create_api(Name="bench-provided", ProtocolType="HTTP", Target=fns["bench-provided"])["ApiId"]
print(json.dumps({
    "mock": f"{url}/restapis/{rid}/prod/_user_request_/hello",
    "node": f"{url}/_aws/execute-api/{node}/echo",
    "provided": f"{url}/_aws/execute-api/{provided}/echo",
}))
