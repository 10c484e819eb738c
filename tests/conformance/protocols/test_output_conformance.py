#!/usr/bin/python3
"""Output conformance: the responses our codecs encode, read back by botocore's own parsers.

For every output case of the botocore protocol suites, `conformance_dump` (a C++ tool built from
src/aws/protocol) prints the HTTP response Stratus encodes from the case's result (or error).
This test feeds each response to botocore.parsers with the case's model and checks that the
client parses back the case's data. Cases listed under "output" in skips.json are counted as
skipped. Run with Debian's python3 (botocore from python3-botocore):

    /usr/bin/python3 test_output_conformance.py PATH/TO/conformance_dump
"""
import base64
import datetime
import json
import math
import os
import subprocess
import sys

from botocore import parsers
from botocore.awsrequest import HeadersDict
from botocore.model import ServiceModel

HERE = os.path.dirname(os.path.abspath(__file__))
FILES = ["json", "json_1_0", "query", "rest-json", "rest-xml"]


def epoch(value):
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    return value


def timestamp_parser(text):
    # The default parser returns datetimes; compare as epoch seconds like the cases do.
    from botocore.utils import parse_timestamp
    return parse_timestamp(text).timestamp()


def normalize(v):
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return v.decode("utf-8", "replace")
    if hasattr(v, "read"):
        return v.read().decode("utf-8", "replace")
    if isinstance(v, float):
        if math.isnan(v):
            return "NaN"
        if math.isinf(v):
            return "Infinity" if v > 0 else "-Infinity"
        if v == int(v):
            return int(v)
        return round(v, 6)
    if isinstance(v, datetime.datetime):
        return normalize(v.timestamp())
    return v


def same(a, b):
    return json.dumps(normalize(a), sort_keys=True) == json.dumps(normalize(b), sort_keys=True)


def check(case, suite, encoded):
    protocol = suite["metadata"]["protocol"]
    op_name = case["given"]["name"]
    model = ServiceModel({"metadata": suite["metadata"], "shapes": suite["shapes"],
                          "operations": {op_name: case["given"]}})
    op = model.operation_model(op_name)
    parser = parsers.PROTOCOL_PARSERS[protocol](timestamp_parser=timestamp_parser)
    headers = HeadersDict()
    for k, v in encoded["headers"]:
        headers[k] = v
    body = base64.b64decode(encoded["body_base64"])
    response = {"status_code": encoded["status"], "headers": headers, "body": body}
    if op.has_streaming_output:
        import io
        from botocore.response import StreamingBody
        response["body"] = StreamingBody(io.BytesIO(body), len(body))
    parsed = parser.parse(response, op.output_shape)
    if "errorCode" in case:
        error = parsed.get("Error", {})
        if error.get("Code") != case["errorCode"]:
            return "error code %r, want %r" % (error.get("Code"), case["errorCode"])
        if "errorMessage" in case and error.get("Message") != case["errorMessage"]:
            return "error message %r, want %r" % (error.get("Message"), case["errorMessage"])
        shape = model.shape_for_error_code(case["errorCode"])
        if shape is not None and case.get("error"):
            response["body"] = body
            modeled = parser.parse(response, shape)
            modeled.pop("Error", None)
            if not same(modeled, case["error"]):
                return "error fields %r, want %r" % (normalize(modeled), case["error"])
        return None
    if not same(parsed, case.get("result", {})):
        return "parsed %s, want %s" % (json.dumps(normalize(parsed))[:600], json.dumps(case.get("result"))[:600])
    return None


def main():
    tool = sys.argv[1]
    encoded = json.loads(subprocess.run([tool, HERE], check=True, capture_output=True).stdout)
    by_key = {(e["file"], e["id"]): e for e in encoded}
    skips = json.load(open(os.path.join(HERE, "skips.json")))["output"]
    total_failed = 0
    rows = []
    for f in FILES:
        passed = skipped = failed = 0
        for suite in json.load(open(os.path.join(HERE, "output-%s.json" % f))):
            for case in suite["cases"]:
                if case["id"] in skips:
                    skipped += 1
                    continue
                e = by_key.get((f, case["id"]))
                problem = "not encoded" if e is None else e.get("error")
                if problem is None:
                    try:
                        problem = check(case, suite, e)
                    except Exception as ex:  # a parser crash is a failure of our response
                        problem = "%s: %s" % (type(ex).__name__, ex)
                if problem:
                    failed += 1
                    print("FAIL output %s %s: %s" % (f, case["id"], problem))
                else:
                    passed += 1
        rows.append((f, passed, skipped, failed))
        total_failed += failed
    for f, p, s, x in rows:
        print("conformance output %s: %d passed, %d skipped, %d failed" % (f, p, s, x))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
