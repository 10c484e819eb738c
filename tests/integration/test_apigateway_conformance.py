"""The API Gateway data-plane conformance suite (tests/conformance/apigateway/, recorded from
real AWS, see its README): each case's REST API is built through boto3 (apigateway and lambda),
its request is sent through the execute-api data plane with http.client, and the Lambda proxy
event or the gateway's response is compared with what AWS produced.

Comparison: key sets must match at every level, values exactly, except JSON pointers listed in
`loose` (must be present, value not compared) and `optional` (may be absent, not compared).
The account id is rewritten to the recording's 111111111111. Counts are printed at the end (and
written to $APIGW_CONFORMANCE_REPORT when set).
"""
import base64
import collections
import glob
import hashlib
import http.client
import json
import os
import urllib.parse

import pytest

from conftest import make_client
from test_apigateway_support import create_python_function, lambda_available, lambda_uri

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = sorted(glob.glob(os.path.join(ROOT, "conformance", "apigateway", "cases", "*.json")))
RESULTS = collections.Counter()


def case_id(path):
    return os.path.basename(path)[:-5]


class Env:
    def __init__(self, server):
        self.server = server
        self.ag = make_client(server, "apigateway")
        self.lam = make_client(server, "lambda")
        self.has_lambda = lambda_available(self.lam)
        self.functions = {}

    def function(self, name, spec):
        key = hashlib.sha1((spec["runtime"] + spec["handler"] + spec["source"]).encode()).hexdigest()[:10]
        if key not in self.functions:
            fn_name = f"conf-{name}-{key}"[:64]
            self.functions[key] = create_python_function(self.lam, fn_name, spec["source"],
                                                         handler=spec["handler"],
                                                         runtime=spec["runtime"])
        return self.functions[key]


@pytest.fixture(scope="module")
def env(shared_stratus):
    e = Env(shared_stratus)
    yield e
    total = sum(RESULTS.values())
    line = (f"apigateway conformance: {RESULTS['pass']} passed, {RESULTS['fail']} failed, "
            f"{RESULTS['skip']} skipped of {total}")
    print("\n" + line)
    if os.environ.get("APIGW_CONFORMANCE_REPORT"):
        with open(os.environ["APIGW_CONFORMANCE_REPORT"], "w") as f:
            f.write(line + "\n")


def build(env, setup):
    ag = env.ag
    assert setup["api_type"] == "REST"
    api = ag.create_rest_api(name="conformance",
                             binaryMediaTypes=setup.get("binary_media_types") or [],
                             endpointConfiguration={"types": [setup.get("endpoint_type", "EDGE")]})
    rid = api["id"]
    root = [r for r in ag.get_resources(restApiId=rid)["items"] if r["path"] == "/"][0]["id"]
    ids = {"/": root}
    for res in sorted(setup["resources"], key=lambda r: r["path"].count("/")):
        path = res["path"]
        if path not in ids:
            parent = "/"
            for part in path.strip("/").split("/"):
                cur = (parent.rstrip("/") + "/" + part)
                if cur not in ids:
                    ids[cur] = ag.create_resource(restApiId=rid, parentId=ids[parent],
                                                  pathPart=part)["id"]
                parent = cur
        for m in res["methods"]:
            kw = {}
            if m.get("request_parameters"):
                kw["requestParameters"] = m["request_parameters"]
            ag.put_method(restApiId=rid, resourceId=ids[path], httpMethod=m["http_method"],
                          authorizationType=m.get("authorization_type", "NONE"),
                          apiKeyRequired=bool(m.get("api_key_required")), **kw)
            integ = m["integration"]
            ikw = {}
            if integ.get("integration_http_method"):
                ikw["integrationHttpMethod"] = integ["integration_http_method"]
            if integ.get("lambda"):
                fn = env.function(integ["lambda"], setup["lambdas"][integ["lambda"]])
                ikw["uri"] = lambda_uri(fn)
            if integ.get("uri"):
                ikw["uri"] = integ["uri"]
            if integ.get("request_parameters"):
                ikw["requestParameters"] = integ["request_parameters"]
            if integ.get("request_templates"):
                ikw["requestTemplates"] = integ["request_templates"]
            ag.put_integration(restApiId=rid, resourceId=ids[path], httpMethod=m["http_method"],
                               type=integ["type"], **ikw)
            for mr in m.get("method_responses") or []:
                ag.put_method_response(restApiId=rid, resourceId=ids[path],
                                       httpMethod=m["http_method"], statusCode=mr["status_code"],
                                       responseParameters=mr.get("response_parameters") or {})
            for ir in m.get("integration_responses") or []:
                rkw = {}
                if ir.get("selection_pattern"):
                    rkw["selectionPattern"] = ir["selection_pattern"]
                if ir.get("response_templates"):
                    rkw["responseTemplates"] = ir["response_templates"]
                if ir.get("response_parameters"):
                    rkw["responseParameters"] = ir["response_parameters"]
                ag.put_integration_response(restApiId=rid, resourceId=ids[path],
                                            httpMethod=m["http_method"],
                                            statusCode=ir["status_code"], **rkw)
    for gr in setup.get("gateway_responses") or []:
        kw = {"responseType": gr["response_type"]}
        if gr.get("status_code"):
            kw["statusCode"] = gr["status_code"]
        if gr.get("response_parameters"):
            kw["responseParameters"] = gr["response_parameters"]
        if gr.get("response_templates"):
            kw["responseTemplates"] = gr["response_templates"]
        ag.put_gateway_response(restApiId=rid, **kw)
    stage = setup["stage"]
    ag.create_deployment(restApiId=rid, stageName=stage["name"],
                         variables=stage.get("variables") or {})
    return rid, stage["name"]


def send(server, rid, stage, req):
    path = f"/restapis/{rid}/{stage}/_user_request_" + req["path"]
    if req.get("query"):
        path += "?" + urllib.parse.urlencode([tuple(q) for q in req["query"]])
    body = req.get("body")
    if body is not None and req.get("body_encoding") == "base64":
        body = base64.b64decode(body)
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.putrequest(req["method"], path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", f"127.0.0.1:{server.port}")
    for name, value in req.get("headers") or []:
        if name.lower() in ("host", "content-length"):
            continue
        conn.putheader(name, value)
    data = body.encode() if isinstance(body, str) else body
    if data is not None:
        conn.putheader("Content-Length", str(len(data)))
    conn.endheaders(data)
    r = conn.getresponse()
    out = r.status, r.getheaders(), r.read()
    conn.close()
    return out


def pointer_tokens(ptr):
    return [t.replace("~1", "/").replace("~0", "~") for t in ptr.split("/")[1:]]


def compare(expected, actual, path, loose, optional, problems):
    if path in loose:
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            problems.append(f"{path or '/'}: expected an object, got {actual!r}"[:300])
            return
        for k in expected:
            p = f"{path}/{k.replace('~', '~0').replace('/', '~1')}"
            if k not in actual:
                if p not in optional:
                    problems.append(f"{p}: missing")
                continue
            if p in optional:
                continue
            compare(expected[k], actual[k], p, loose, optional, problems)
        for k in actual:
            p = f"{path}/{k.replace('~', '~0').replace('/', '~1')}"
            if k not in expected and p not in optional:
                problems.append(f"{p}: unexpected (value {actual[k]!r})"[:300])
        return
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            problems.append(f"{path}: expected {expected!r}, got {actual!r}"[:300])
            return
        for i, (e, a) in enumerate(zip(expected, actual)):
            compare(e, a, f"{path}/{i}", loose, optional, problems)
        return
    if expected != actual:
        problems.append(f"{path}: expected {expected!r}, got {actual!r}"[:300])


def rewrite_account(value):
    text = json.dumps(value).replace("000000000000", "111111111111")
    return json.loads(text)


def check(case, status, headers, body):
    exp = case["expected"]
    loose = set(case.get("loose") or [])
    optional = set(case.get("optional") or [])
    problems = []
    if status != exp["status"]:
        problems.append(f"status: expected {exp['status']}, got {status} ({body[:200]!r})")
    if "event" in exp:
        try:
            outer = json.loads(body)
        except ValueError:
            problems.append(f"body is not the echoed event: {body[:200]!r}")
            return problems
        event = rewrite_account(outer)
        expected_event = exp["event"]
        if isinstance(expected_event.get("body"), (dict, list)) and isinstance(event.get("body"), str):
            try:
                event["body"] = json.loads(event["body"])
            except ValueError:
                pass
        compare(expected_event, event, "/event", loose, optional, problems)
    if "body" in exp and exp["body"] is not None:
        if isinstance(exp["body"], (dict, list)):
            try:
                actual = json.loads(body)
            except ValueError:
                actual = body.decode("utf-8", "replace")
            compare(exp["body"], actual, "/body", loose, optional, problems)
        elif exp["body"] != body.decode("utf-8", "replace"):
            problems.append(f"/body: expected {exp['body']!r}, got {body[:200]!r}")
    got = {}
    for k, v in headers:
        got.setdefault(k.lower(), v)
    for name, value in (exp.get("headers") or {}).items():
        p = "/headers/" + name.replace("~", "~0").replace("/", "~1")
        if p in optional:
            continue
        if name.lower() not in got:
            problems.append(f"{p}: missing")
            continue
        if p in loose:
            continue
        if got[name.lower()] != value:
            problems.append(f"{p}: expected {value!r}, got {got[name.lower()]!r}")
    return problems


@pytest.mark.parametrize("path", CASES, ids=[case_id(p) for p in CASES])
def test_case(env, path):
    with open(path) as f:
        case = json.load(f)
    if case["setup"].get("lambdas") and not env.has_lambda:
        RESULTS["skip"] += 1
        pytest.skip("needs the Lambda service")
    try:
        rid, stage = build(env, case["setup"])
        status, headers, body = send(env.server, rid, stage, case["request"])
        problems = check(case, status, headers, body)
    except Exception:
        RESULTS["fail"] += 1
        raise
    RESULTS["fail" if problems else "pass"] += 1
    assert not problems, "\n".join(problems)
