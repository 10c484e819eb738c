"""Step Functions conformance: every recorded AWS execution of tests/conformance/stepfunctions
run through boto3 against a real stratus (see that folder's README for the case format).

Each case creates its state machine (and its Lambda functions when it needs them), runs one
execution and compares status, output or error/cause with what AWS returned, after the same
rewrites the recordings applied (timestamps → "date"/"timestamp", placeholders such as
<uuid:1> or <ArnPart_0idx> matching any text). Cases skipped carry their reason; the per-category
counts are printed at the end and written to $STRATUS_SFN_CONFORMANCE_REPORT when set.
"""
import collections
import glob
import io
import json
import os
import re
import time
import uuid
import zipfile

import pytest
from botocore.config import Config

from conftest import make_client

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
CASES_DIR = os.path.join(os.path.dirname(HERE), "conformance", "stepfunctions", "cases")
CASES = sorted(glob.glob(os.path.join(CASES_DIR, "*.json")))
ROLE = "arn:aws:iam::000000000000:role/stepfunctions"
# Longest Wait we let run in real time; longer ones are skipped by id below.
MAX_REAL_WAIT = 5

# Cases skipped on purpose, with the reason (anything not listed runs).
SKIP = {}

# Known differences from AWS, with the reason (they run, and must keep failing: strict xfail).
KNOWN_FAILURES = {
    "services/test_lambda_task.py::TestTaskLambda::test_invoke_bytes_payload":
        "stratus's Python runtime refuses to marshal a bytes return value (Runtime.MarshalError); "
        "AWS's serialises it",
}

RESULTS = collections.defaultdict(collections.Counter)
HTTP_DATE = re.compile(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$")
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")


def load(path):
    with open(path) as f:
        return json.load(f)


def rewrite(value, key=""):
    """The recordings' normalisation: ISO timestamps → 'date', '*timestamp*' keys → 'timestamp'."""
    if isinstance(value, str) and (ISO.match(value) or HTTP_DATE.match(value)):
        return "date"
    if "timestamp" in key.lower() and not isinstance(value, (dict, list)):
        return "timestamp"
    if isinstance(value, dict):
        return {k: rewrite(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [rewrite(v, key) for v in value]
    if isinstance(value, str):
        if ISO.match(value):
            return "date"
        return value.replace("000000000000", "111111111111")
    return value


PLACEHOLDER = re.compile(r"<[^<>]+>")


def text_matches(expected, actual):
    if expected == actual:
        return True
    if expected == "snf_role_arn":
        return True
    if "<" not in expected and "lambda_function_name" not in expected:
        return False
    pattern = ""
    pos = 0
    for m in PLACEHOLDER.finditer(expected):
        pattern += re.escape(expected[pos:m.start()]) + ".*?"
        pos = m.end()
    pattern += re.escape(expected[pos:])
    pattern = pattern.replace("lambda_function_name", ".*?")
    return re.fullmatch(pattern, actual, re.S) is not None


def matches(expected, actual, loose=False, key=None):
    # The recordings replaced some values by their key's name or by "date"/"timestamp".
    if isinstance(expected, str) and (expected == key or expected in ("date", "timestamp")):
        return True
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return False
        if set(expected) != set(actual):
            return False
        return all(matches(expected[k], actual[k], loose, k) for k in expected)
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(expected) != len(actual):
            return False
        return all(matches(e, a, loose, key) for e, a in zip(expected, actual))
    if isinstance(expected, str):
        if loose:
            return isinstance(actual, str) or actual is not None
        if isinstance(actual, str):
            return text_matches(expected, actual)
        if expected in ("date", "timestamp"):
            return True
        # Placeholders for numbers/structures recorded as strings.
        return PLACEHOLDER.fullmatch(expected) is not None
    if isinstance(expected, bool) or expected is None:
        return expected == actual
    if isinstance(expected, (int, float)) and isinstance(actual, (int, float)) and not isinstance(actual, bool):
        return loose or float(expected) == float(actual)
    return expected == actual


def lambda_available(sfn_server):
    try:
        make_client(sfn_server, "lambda").list_functions()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not there"
        return False


def s3_available(sfn_server):
    try:
        make_client(sfn_server, "s3").list_buckets()
        return True
    except Exception:  # noqa: BLE001 - any failure means "not there"
        return False


def make_zip(name, source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr(name, source)
    return buf.getvalue()


def real_wait_seconds(case):
    """How long the case waits in real time: its longest Wait, cut short by the machine's
    TimeoutSeconds (the recorded test_global_timeout waits 60 s but times out after 5)."""
    wait = case.get("max_wait_seconds") or 0
    timeout = (case.get("definition") or {}).get("TimeoutSeconds")
    if isinstance(timeout, int) and timeout < wait:
        return timeout
    return wait


# Needs met by S3 buckets, which the runner creates (every "Bucket" the definition names).
S3_NEEDS = {"s3", "aws-sdk:s3"}


def skip_reason(case, have_lambda, have_s3):
    if case["id"] in SKIP:
        return SKIP[case["id"]]
    if real_wait_seconds(case) > MAX_REAL_WAIT:
        return f"waits {case['max_wait_seconds']} s"
    for need in case.get("needs") or []:
        if need.startswith("lambda:"):
            if not have_lambda:
                return "needs Lambda, which this stratus does not serve"
            if need == "lambda:unknown-function":
                return "needs a Lambda function whose code the recording does not include"
            continue
        if need in S3_NEEDS:
            if not have_s3:
                return "needs S3, which this stratus does not serve"
            continue
        return f"needs {need}, which the conformance runner does not provision"
    return None


def bucket_names(value):
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "Bucket" and isinstance(v, str):
                yield v
            else:
                yield from bucket_names(v)
    elif isinstance(value, list):
        for v in value:
            yield from bucket_names(v)


def provision_buckets(case, server):
    s3 = make_client(server, "s3")
    for name in set(bucket_names(case["definition"])):
        try:
            s3.create_bucket(Bucket=name)
        except s3.exceptions.BucketAlreadyOwnedByYou:
            pass


@pytest.fixture(scope="module")
def env(shared_stratus):
    cfg = Config(retries={"max_attempts": 1}, read_timeout=120, inject_host_prefix=False)
    sfn = boto3.client("stepfunctions", endpoint_url=shared_stratus.url, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test", config=cfg)
    yield {"sfn": sfn, "server": shared_stratus, "lambda": lambda_available(shared_stratus),
           "s3": s3_available(shared_stratus)}
    report = {cat: dict(c) for cat, c in sorted(RESULTS.items())}
    lines = ["stepfunctions conformance (category: passed/skipped/failed):"]
    for cat, c in sorted(RESULTS.items()):
        lines.append(f"  {cat}: {c['passed']}/{c['skipped']}/{c['failed']}")
    print("\n" + "\n".join(lines))
    out = os.environ.get("STRATUS_SFN_CONFORMANCE_REPORT")
    if out:
        with open(out, "w") as f:
            json.dump(report, f, indent=1)


def provision_lambdas(case, server):
    client = make_client(server, "lambda")
    definition = json.dumps(case["definition"])
    payload = json.dumps(case["input"])
    for fn in case.get("lambdas") or []:
        name = f"sfn-{uuid.uuid4().hex[:12]}"
        zip_name = fn.get("zip_name") or "handler.py"
        resp = client.create_function(
            FunctionName=name, Runtime=fn.get("runtime", "python3.12"), Role=ROLE,
            Handler=fn.get("handler", "handler.handler"),
            Code={"ZipFile": make_zip(zip_name, fn["source"])},
            Timeout=fn.get("timeout", 30), Environment={"Variables": fn.get("envvars") or {}})
        i = fn["index"]
        definition = definition.replace("${LAMBDA_ARN_%d}" % i, resp["FunctionArn"])
        definition = definition.replace("${LAMBDA_NAME_%d}" % i, name)
        payload = payload.replace("${LAMBDA_ARN_%d}" % i, resp["FunctionArn"])
        payload = payload.replace("${LAMBDA_NAME_%d}" % i, name)
    return definition, payload


def run_case(env, case):
    sfn = env["sfn"]
    definition = json.dumps(case["definition"])
    payload = json.dumps(case["input"])
    if case.get("lambdas"):
        definition, payload = provision_lambdas(case, env["server"])
    if S3_NEEDS & set(case.get("needs") or []):
        provision_buckets(case, env["server"])
    sm_type = case.get("state_machine_type", "STANDARD")
    sm = sfn.create_state_machine(name=f"c-{uuid.uuid4().hex[:16]}", definition=definition,
                                  roleArn=ROLE, type=sm_type)
    arn = sm["stateMachineArn"]
    if sm_type == "EXPRESS":
        desc = sfn.start_sync_execution(stateMachineArn=arn, input=payload)
    else:
        ex = sfn.start_execution(stateMachineArn=arn, input=payload)
        deadline = time.time() + 60
        while True:
            desc = sfn.describe_execution(executionArn=ex["executionArn"])
            if desc["status"] != "RUNNING" or time.time() > deadline:
                break
            time.sleep(0.01)
    return desc


@pytest.mark.parametrize("path", CASES, ids=[os.path.basename(p)[:-5] for p in CASES])
def test_case(env, path, request):
    case = load(path)
    category = case["category"]
    if case["id"] in KNOWN_FAILURES:
        request.node.add_marker(pytest.mark.xfail(reason=KNOWN_FAILURES[case["id"]], strict=True))
    reason = skip_reason(case, env["lambda"], env["s3"])
    if reason:
        RESULTS[category]["skipped"] += 1
        pytest.skip(reason)
    try:
        desc = run_case(env, case)
        expected = case["expected"]
        loose = set(case.get("loose_fields") or [])
        assert desc["status"] == expected["status"], f"{desc.get('error')}: {desc.get('cause')}"
        if "output" in expected:
            actual = rewrite(json.loads(desc.get("output", "null")))
            assert matches(expected["output"], actual, "output" in loose), \
                f"output {json.dumps(actual)[:2000]} != expected {json.dumps(expected['output'])[:2000]}"
        if expected["status"] != "SUCCEEDED":
            if expected.get("error") is not None:
                assert matches(expected["error"], desc.get("error")), f"error {desc.get('error')!r}"
            if expected.get("cause") is not None:
                cause = desc.get("cause", "")
                if isinstance(expected["cause"], (dict, list)):
                    try:
                        cause = json.loads(cause)
                    except ValueError:
                        pass
                cause = rewrite(cause)
                assert matches(expected["cause"], cause, "cause" in loose), f"cause {cause!r}"
    except Exception:
        RESULTS[category]["failed"] += 1
        raise
    RESULTS[category]["passed"] += 1
