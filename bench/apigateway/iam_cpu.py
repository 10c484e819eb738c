# CPU time of the stratus process per execute-api request: AWS_IAM (enforced, allowed user,
# botocore-signed) vs NONE, both MOCK integrations, one keep-alive connection.
# Usage: STRATUS_BIN=<build>/stratus /usr/bin/python3 bench/apigateway/iam_cpu.py N
import json, os, sys, tempfile, time, uuid, http.client
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
os.environ.setdefault("STRATUS_BIN", os.path.join(os.path.dirname(__file__), "..", "..", "build", "stratus"))
from conftest import Stratus
import boto3, botocore.auth, botocore.credentials
from botocore.awsrequest import AWSRequest
N = int(sys.argv[1])
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
with tempfile.TemporaryDirectory() as d:
    s = Stratus(d, ["--enforce-iam", "true"]).start()
    c = lambda svc: boto3.client(svc, endpoint_url=s.url, region_name="us-east-1", aws_access_key_id="test", aws_secret_access_key="test")
    ag = c("apigateway"); iam = c("iam")
    rid = ag.create_rest_api(name="b")["id"]
    root = ag.get_resources(restApiId=rid)["items"][0]["id"]
    for part, auth in (("iam", "AWS_IAM"), ("open", "NONE")):
        res = ag.create_resource(restApiId=rid, parentId=root, pathPart=part)["id"]
        ag.put_method(restApiId=rid, resourceId=res, httpMethod="GET", authorizationType=auth)
        ag.put_integration(restApiId=rid, resourceId=res, httpMethod="GET", type="MOCK", requestTemplates={"application/json": '{"statusCode": 200}'})
        ag.put_method_response(restApiId=rid, resourceId=res, httpMethod="GET", statusCode="200")
        ag.put_integration_response(restApiId=rid, resourceId=res, httpMethod="GET", statusCode="200", responseTemplates={"application/json": "{}"})
    ag.create_deployment(restApiId=rid, stageName="dev")
    iam.create_user(UserName="u")
    iam.put_user_policy(UserName="u", PolicyName="p", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "*"}]}))
    k = iam.create_access_key(UserName="u")["AccessKey"]
    creds = botocore.credentials.Credentials(k["AccessKeyId"], k["SecretAccessKey"])
    conn = http.client.HTTPConnection("127.0.0.1", s.port)
    for part in ("open", "iam"):
        url = f"{s.url}/restapis/{rid}/dev/_user_request_/{part}"
        reqs = []
        for _ in range(N):
            r = AWSRequest(method="GET", url=url, headers={})
            if part == "iam": botocore.auth.SigV4Auth(creds, "execute-api", "us-east-1").add_auth(r)
            reqs.append(dict(r.prepare().headers.items()))
        path = f"/restapis/{rid}/dev/_user_request_/{part}"
        before = cpu(s.proc.pid)
        for h in reqs:
            conn.request("GET", path, headers=h); resp = conn.getresponse(); resp.read()
            assert resp.status == 200, resp.status
        after = cpu(s.proc.pid)
        print(f"{part}: {N} requests, server CPU {after-before:.2f} s, {(after-before)/N*1e6:.0f} us/request")
    s.stop()
