"""Server CPU per request added by a REST request validator: the same MOCK POST without a
validator ("plain") and with validator + body model + a required header ("checked"), each run
twice, N keep-alive requests each, CPU from /proc/<pid>/stat (utime+stime).

  STRATUS_BIN=build/stratus N=15000 /usr/bin/python3 bench/apigateway/validation_cpu.py
"""
import http.client, json, os, sys, time
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))
import tempfile
from conftest import Stratus, make_client

N = int(os.environ.get("N", "3000"))

def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

with tempfile.TemporaryDirectory() as d:
    s = Stratus(d).start()
    ag = make_client(s, "apigateway")
    rid = ag.create_rest_api(name="bench")["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    ag.create_model(restApiId=rid, name="Item", contentType="application/json", schema=json.dumps(
        {"type": "object", "required": ["sku"], "properties": {"sku": {"type": "string", "pattern": "^[A-Z0-9-]+$"},
         "qty": {"type": "integer", "minimum": 1}}}))
    ag.create_model(restApiId=rid, name="Order", contentType="application/json", schema=json.dumps(
        {"type": "object", "required": ["id", "items"], "additionalProperties": False,
         "properties": {"id": {"type": "string", "minLength": 1}, "note": {"type": "string", "maxLength": 200},
                        "items": {"type": "array", "minItems": 1, "maxItems": 50,
                                  "items": {"$ref": f"https://apigateway.amazonaws.com/restapis/{rid}/models/Item"}}}}))
    v = ag.create_request_validator(restApiId=rid, name="all", validateRequestBody=True, validateRequestParameters=True)["id"]
    for path, kw in [("plain", {}), ("checked", {"requestValidatorId": v, "requestModels": {"application/json": "Order"},
                                                 "requestParameters": {"method.request.header.X-Tenant": True}})]:
        res = ag.create_resource(restApiId=rid, parentId=root, pathPart=path)["id"]
        ag.put_method(restApiId=rid, resourceId=res, httpMethod="POST", authorizationType="NONE", **kw)
        ag.put_integration(restApiId=rid, resourceId=res, httpMethod="POST", type="MOCK",
                           requestTemplates={"application/json": '{"statusCode": 200}'})
        ag.put_integration_response(restApiId=rid, resourceId=res, httpMethod="POST", statusCode="200",
                                    responseTemplates={"application/json": '{"ok": 1}'})
    ag.create_deployment(restApiId=rid, stageName="dev")
    body = json.dumps({"id": "o-1", "note": "x" * 50, "items": [{"sku": f"SKU-{i}", "qty": i + 1} for i in range(10)]})
    pid = s.proc.pid
    for path in ["plain", "checked", "plain", "checked"]:
        conn = http.client.HTTPConnection("127.0.0.1", s.port)
        hdr = {"Content-Type": "application/json", "X-Tenant": "t"}
        for _ in range(200):  # warm up
            conn.request("POST", f"/restapis/{rid}/dev/_user_request_/{path}", body=body, headers=hdr); conn.getresponse().read()
        c0 = cpu(pid); t0 = time.time()
        for _ in range(N):
            conn.request("POST", f"/restapis/{rid}/dev/_user_request_/{path}", body=body, headers=hdr)
            r = conn.getresponse(); r.read(); assert r.status == 200, r.status
        c1 = cpu(pid); t1 = time.time()
        print(f"{path:8s} N={N} server CPU {1e6*(c1-c0)/N:7.1f} us/request  wall {1e6*(t1-t0)/N:7.1f} us/request")
        conn.close()
    s.stop()
