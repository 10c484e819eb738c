#!/usr/bin/python3
"""Every operation of the embedded models, round-tripped with botocore's own serializers/parsers.

For each service that both models/ and Debian's botocore (1.29) describe, and each operation in
both: a request with every member set (values generated from the shapes) is serialized by
botocore and must decode, by Stratus's codec, to the same parameters; an output with every member
set is encoded by Stratus and must parse, by botocore, to the same data. Members or operations
that only one of the two model versions has are left out. Prints counts per service and protocol;
fails on any mismatch not listed in KNOWN below.

    /usr/bin/python3 test_botocore_models.py PATH/TO/conformance_dump
"""
import base64
import datetime
import io
import json
import os
import subprocess
import sys
import urllib.parse

import botocore.session
from botocore import parsers, serialize
from botocore.awsrequest import HeadersDict
from botocore.response import StreamingBody

HERE = os.path.dirname(os.path.abspath(__file__))
MODELS = os.path.join(HERE, "..", "..", "..", "models")
TS = datetime.datetime(2020, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
EPOCH = 1577934245

# (service, direction, operation) -> why a mismatch is expected.
KNOWN = {
    ("s3", "output", "GetBucketNotification"):
        "model ambiguity: the deprecated operation's Event member and flattened Events list share the element <Event>",
    ("s3", "input", "PutBucketNotification"):
        "model ambiguity: the deprecated operation's Event member and flattened Events list share the element <Event>",
    ("s3", "input", "GetBucketNotification"):
        "same request on the wire as GetBucketNotificationConfiguration; routing picks the current operation",
    ("s3", "input", "GetBucketLifecycle"):
        "same request on the wire as GetBucketLifecycleConfiguration; routing picks the current operation",
    ("s3", "input", "PutBucketLifecycle"):
        "same request on the wire as PutBucketLifecycleConfiguration; routing picks the current operation",
}


def our_model(stem):
    with open(os.path.join(MODELS, stem + ".json")) as f:
        return json.load(f)


def gen(shape, ours, our_shapes, depth=0):
    """A value for botocore `shape`, limited to what our model's shape (JSON) also has."""
    t = shape.type_name
    if t == "structure":
        if depth > 5 or shape.serialization.get("eventstream") or getattr(shape, "is_document_type", False):
            return None
        out = {}
        for name, member in shape.members.items():
            od = ours.get("members", {}).get(name)
            if od is None or member.serialization.get("eventstream"):
                continue
            if getattr(member, "is_document_type", False) or our_shapes[od["shape"]].get("document"):
                continue
            if member.type_name == "structure" and member.serialization.get("eventstream"):
                continue
            if member.serialization.get("location") == "header" and member.type_name in ("list", "map", "structure"):
                pass
            v = gen(member, our_shapes[od["shape"]], our_shapes, depth + 1)
            if v is not None:
                out[name] = v
                if ours.get("union"):
                    break
        return out
    if t == "list":
        v = gen(shape.member, our_shapes[ours["member"]["shape"]], our_shapes, depth + 1)
        return None if v is None else [v]
    if t == "map":
        key = shape.key.enum[0] if shape.key.enum else "k1"
        v = gen(shape.value, our_shapes[ours["value"]["shape"]], our_shapes, depth + 1)
        return None if v is None else {key: v}
    if t == "string":
        if shape.enum:
            common = [e for e in shape.enum if e in ours.get("enum", shape.enum)]
            return (common or shape.enum)[0]
        n = max(int(shape.metadata.get("min", 1) or 1), 1)
        return ("s" * n)[:max(n, 1)]
    if t in ("integer", "long"):
        lo = int(shape.metadata.get("min", 1))
        return max(lo, 1) if "max" not in shape.metadata else min(max(lo, 1), int(shape.metadata["max"]))
    if t in ("float", "double"):
        return 1.5
    if t == "boolean":
        return True
    if t == "timestamp":
        return TS
    if t == "blob":
        return b"blob-data"
    return None


def canon(shape, value):
    """botocore-side value -> Stratus canonical JSON."""
    t = shape.type_name
    if value is None:
        return None
    if t == "structure":
        return {k: canon(shape.members[k], v) for k, v in value.items()}
    if t == "list":
        return [canon(shape.member, v) for v in value]
    if t == "map":
        return {k: canon(shape.value, v) for k, v in value.items()}
    if t == "blob":
        if isinstance(value, (bytes, bytearray)):
            return base64.b64encode(value).decode()
        if hasattr(value, "read"):
            return base64.b64encode(value.read()).decode()
        return base64.b64encode(value.encode()).decode()
    if t == "timestamp":
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        return value
    if t == "string" and shape.serialization.get("jsonvalue") and not isinstance(value, str):
        return json.dumps(value, separators=(",", ":"))
    return value


def same(a, b):
    def norm(v):
        if isinstance(v, dict):
            return {k: norm(x) for k, x in v.items() if k != "ResponseMetadata"}
        if isinstance(v, list):
            return [norm(x) for x in v]
        if isinstance(v, float) and v == int(v):
            return int(v)
        return v
    return json.dumps(norm(a), sort_keys=True, default=str) == json.dumps(norm(b), sort_keys=True, default=str)


def payload_member(shape):
    if shape is None:
        return None
    name = shape.serialization.get("payload")
    if name and shape.members[name].type_name == "blob":
        return name
    return None


def run_service(tool, stem, session):
    ours = our_model(stem)
    name = ours["metadata"].get("endpointPrefix", stem.rsplit("-", 3)[0])
    short = stem[: -len("-2012-11-05")]
    try:
        bmodel = session.get_service_model(short)
    except Exception:
        return None
    protocol = bmodel.metadata["protocol"]
    our_protocols = subprocess.run([tool, "--protocols", short], check=True, capture_output=True,
                                   text=True).stdout.split()
    if protocol not in our_protocols:
        return None
    our_shapes = ours["shapes"]
    serializer = serialize.create_serializer(protocol, include_validation=False)
    jobs, meta = [], []
    for op_name in bmodel.operation_names:
        if op_name not in ours["operations"]:
            continue
        op = bmodel.operation_model(op_name)
        oop = ours["operations"][op_name]
        if op.has_event_stream_input or op.has_event_stream_output:
            continue
        params = {}
        if op.input_shape is not None and "input" in oop:
            params = gen(op.input_shape, our_shapes[oop["input"]["shape"]], our_shapes) or {}
        req = serializer.serialize_to_request(params, op)
        query = urllib.parse.urlencode(req["query_string"], doseq=True, quote_via=urllib.parse.quote) \
            if isinstance(req["query_string"], dict) else req["query_string"]
        body = req["body"]
        if isinstance(body, dict):
            body = urllib.parse.urlencode(body)
        if isinstance(body, str):
            body = body.encode()
        if hasattr(body, "read"):
            body = body.read()
        # A requestUri may carry literals ("/restapis?mode=import"): join as botocore does.
        target = req["url_path"] + (("&" if "?" in req["url_path"] else "?") + query if query else "")
        headers = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in req["headers"].items()}
        jobs.append({"decode": {"method": req["method"], "target": target, "headers": headers,
                                "body": body.decode("latin-1")}})
        meta.append(("input", op_name, params))
        if op.output_shape is not None and "output" in oop:
            out = gen(op.output_shape, our_shapes[oop["output"]["shape"]], our_shapes) or {}
            job = {"operation": op_name, "output": canon(op.output_shape, out)}
            pm = payload_member(op.output_shape)
            if pm and pm in out:
                job["payload_base64"] = base64.b64encode(out[pm]).decode()
                del job["output"][pm]
            jobs.append({"encode": job})
            meta.append(("output", op_name, out))
    proc = subprocess.run([tool, "--codec", short, protocol], input=json.dumps(jobs).encode(),
                          check=True, capture_output=True)
    results = json.loads(proc.stdout)
    counts = {"input": [0, 0, 0], "output": [0, 0, 0]}  # passed, failed, known
    failures = []
    for (direction, op_name, data), got in zip(meta, results):
        op = bmodel.operation_model(op_name)
        problem = None
        if "error" in got:
            problem = got["error"]
        elif direction == "input":
            want = canon(op.input_shape, data) if op.input_shape is not None else {}
            actual = dict(got["input"])
            if "payload_member" in got and got["payload_base64"]:
                actual[got["payload_member"]] = got["payload_base64"]
            if got["operation"] != op_name:
                problem = "resolved to %s" % got["operation"]
            elif not same(actual, want):
                problem = "decoded %s\n      want %s" % (json.dumps(actual)[:500], json.dumps(want)[:500])
        else:
            headers = HeadersDict()
            for k, v in got["headers"]:
                headers[k] = v
            raw = base64.b64decode(got["body_base64"])
            body = StreamingBody(io.BytesIO(raw), len(raw)) if op.has_streaming_output else raw
            parser = parsers.create_parser(protocol)
            parsed = parser.parse({"status_code": got["status"], "headers": headers, "body": body},
                                  op.output_shape)
            if short == "s3" and op_name == "GetBucketLocation":
                # boto3 reads it with a handler (botocore.handlers.parse_get_bucket_location).
                from botocore.handlers import parse_get_bucket_location

                response = type("Response", (), {"content": raw, "raw": b"present"})()
                parse_get_bucket_location(parsed, response)
            parsed = canon(op.output_shape, {k: v for k, v in parsed.items() if k != "ResponseMetadata"})
            want = canon(op.output_shape, data)
            if op.http.get("method") != "HEAD":
                # The HTTP server frames the body and sends its own Content-Length.
                for m, ms in op.output_shape.members.items():
                    if ms.serialization.get("name", "").lower() == "content-length":
                        parsed.pop(m, None)
                        want.pop(m, None)
            if not same(parsed, want):
                problem = "parsed %s\n      want %s" % (json.dumps(parsed, default=str)[:500], json.dumps(want)[:500])
        key = (short, direction, op_name)
        if problem and key in KNOWN:
            counts[direction][2] += 1
        elif problem:
            counts[direction][1] += 1
            failures.append("FAIL %s %s %s: %s" % (short, direction, op_name, problem))
        else:
            counts[direction][0] += 1
    return protocol, counts, failures


def main():
    tool = sys.argv[1]
    session = botocore.session.get_session()
    stems = sorted(f[:-5] for f in os.listdir(MODELS) if f.endswith(".json"))
    total_failed = total_passed = total_known = 0
    lines = []
    for stem in stems:
        r = run_service(tool, stem, session)
        if r is None:
            continue
        protocol, counts, failures = r
        for f in failures:
            print(f)
        total_failed += len(failures)
        total_passed += counts["input"][0] + counts["output"][0]
        total_known += counts["input"][2] + counts["output"][2]
        lines.append("| %s | %s | %d | %d | %d | %d |" % (
            stem, protocol, counts["input"][0], counts["input"][2], counts["output"][0], counts["output"][2]))
    print("| model | protocol | input passed | input known | output passed | output known |")
    print("|---|---|---|---|---|---|")
    print("\n".join(lines))
    print("botocore models: %d passed, %d failed, %d known (see KNOWN)" % (total_passed, total_failed, total_known))
    return 1 if total_failed else 0


if __name__ == "__main__":
    sys.exit(main())
