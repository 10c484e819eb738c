#!/usr/bin/python3
"""SQS over the query protocol, held against botocore's own SQS query model.

Debian's python3-botocore (1.29) still describes SQS with the query protocol (the model that
older SDKs were generated from), while models/sqs-2012-11-05.json is the current json model plus
our overlay (models/overlays/sqs-2012-11-05.json). This test serializes requests with botocore's
query serializer and checks that Stratus decodes them to the same parameters, then encodes
outputs with Stratus and checks that botocore's query parser reads them back unchanged.

    /usr/bin/python3 test_sqs_query.py PATH/TO/conformance_dump
"""
import base64
import json
import subprocess
import sys
import urllib.parse

import botocore.session
from botocore import parsers, serialize
from botocore.awsrequest import HeadersDict

REQUESTS = {
    "SendMessage": {
        "QueueUrl": "http://localhost:4566/000000000000/q", "MessageBody": "hello & <world>",
        "DelaySeconds": 3, "MessageDeduplicationId": "d1", "MessageGroupId": "g1",
        "MessageAttributes": {
            "color": {"DataType": "String", "StringValue": "red"},
            "blob": {"DataType": "Binary", "BinaryValue": b"\x00\x01\xff"},
        },
        "MessageSystemAttributes": {
            "AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988-bd862e3fe1be46a994272793"},
        },
    },
    "SendMessageBatch": {
        "QueueUrl": "u",
        "Entries": [
            {"Id": "a", "MessageBody": "one", "MessageAttributes": {"n": {"DataType": "Number", "StringValue": "1"}}},
            {"Id": "b", "MessageBody": "two", "DelaySeconds": 1},
        ],
    },
    "ReceiveMessage": {
        "QueueUrl": "u", "AttributeNames": ["All", "SenderId"], "MessageAttributeNames": ["color", "n.*"],
        "MaxNumberOfMessages": 10, "VisibilityTimeout": 30, "WaitTimeSeconds": 20,
        "ReceiveRequestAttemptId": "x",
    },
    "CreateQueue": {
        "QueueName": "q.fifo", "Attributes": {"FifoQueue": "true", "VisibilityTimeout": "40"},
        "tags": {"team": "core", "env": "dev"},
    },
    "SetQueueAttributes": {"QueueUrl": "u", "Attributes": {"DelaySeconds": "5", "Policy": "{\"a\": 1}"}},
    "GetQueueAttributes": {"QueueUrl": "u", "AttributeNames": ["QueueArn", "ApproximateNumberOfMessages"]},
    "TagQueue": {"QueueUrl": "u", "Tags": {"a": "1", "b": "2"}},
    "UntagQueue": {"QueueUrl": "u", "TagKeys": ["a", "b"]},
    "DeleteMessageBatch": {"QueueUrl": "u", "Entries": [{"Id": "1", "ReceiptHandle": "r1"}, {"Id": "2", "ReceiptHandle": "r2"}]},
    "ChangeMessageVisibilityBatch": {"QueueUrl": "u", "Entries": [{"Id": "1", "ReceiptHandle": "r1", "VisibilityTimeout": 9}]},
    "AddPermission": {"QueueUrl": "u", "Label": "l", "AWSAccountIds": ["111111111111", "222222222222"], "Actions": ["SendMessage", "ReceiveMessage"]},
    "ListQueues": {"QueueNamePrefix": "q", "MaxResults": 5, "NextToken": "t"},
    "GetQueueUrl": {"QueueName": "q", "QueueOwnerAWSAccountId": "000000000000"},
    "DeleteMessage": {"QueueUrl": "u", "ReceiptHandle": "r"},
    "PurgeQueue": {"QueueUrl": "u"},
}

OUTPUTS = {
    "ReceiveMessage": {"Messages": [
        {"MessageId": "m1", "ReceiptHandle": "r1", "MD5OfBody": "x", "Body": "b & <c>",
         "Attributes": {"SenderId": "000000000000", "SentTimestamp": "1700000000000"},
         "MD5OfMessageAttributes": "y",
         "MessageAttributes": {
             "color": {"DataType": "String", "StringValue": "red"},
             "blob": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\x01").decode()},
         }},
        {"MessageId": "m2", "ReceiptHandle": "r2", "MD5OfBody": "z", "Body": "second"},
    ]},
    "SendMessage": {"MessageId": "m", "MD5OfMessageBody": "a", "MD5OfMessageAttributes": "b", "SequenceNumber": "1"},
    "SendMessageBatch": {
        "Successful": [{"Id": "a", "MessageId": "m1", "MD5OfMessageBody": "x"}],
        "Failed": [{"Id": "b", "SenderFault": True, "Code": "InvalidParameterValue", "Message": "bad"}],
    },
    "GetQueueAttributes": {"Attributes": {"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q", "DelaySeconds": "0"}},
    "ListQueues": {"QueueUrls": ["http://localhost/000000000000/a", "http://localhost/000000000000/b"], "NextToken": "n"},
    "ListQueueTags": {"Tags": {"team": "core"}},
    "CreateQueue": {"QueueUrl": "http://localhost/000000000000/q"},
    "GetQueueUrl": {"QueueUrl": "http://localhost/000000000000/q"},
    "ListDeadLetterSourceQueues": {"queueUrls": ["http://localhost/000000000000/src"]},
    "DeleteMessageBatch": {"Successful": [{"Id": "1"}], "Failed": [{"Id": "2", "SenderFault": False, "Code": "InternalError"}]},
    # An empty flattened list has no element at all: the client sees it absent.
    "ChangeMessageVisibilityBatch": {"Successful": [{"Id": "1"}]},
}


def normalize(v):
    if isinstance(v, dict):
        return {k: normalize(x) for k, x in v.items() if k != "ResponseMetadata"}
    if isinstance(v, list):
        return [normalize(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    return v


def main():
    tool = sys.argv[1]
    model = botocore.session.get_session().get_service_model("sqs")
    if model.metadata["protocol"] != "query":
        print("botocore's SQS model is no longer the query one: nothing to compare against")
        return 77  # CTest SKIP_RETURN_CODE
    serializer = serialize.create_serializer("query")
    jobs, expected = [], []
    for op, params in REQUESTS.items():
        req = serializer.serialize_to_request(params, model.operation_model(op))
        body = urllib.parse.urlencode(req["body"])
        jobs.append({"decode": {"method": "POST", "target": "/", "body": body,
                                "headers": {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}}})
        expected.append(("decode", op, params))
    for op, output in OUTPUTS.items():
        jobs.append({"encode": {"operation": op, "output": output}})
        expected.append(("encode", op, output))
    done = subprocess.run([tool, "--codec", "sqs", "query"], input=json.dumps(jobs).encode(),
                          check=True, capture_output=True)
    results = json.loads(done.stdout)
    failed = passed = 0
    for (kind, op, want), got in zip(expected, results):
        problem = None
        if "error" in got:
            problem = got["error"]
        elif kind == "decode":
            if got["operation"] != op or normalize(got["input"]) != normalize(want):
                problem = "decoded %s" % json.dumps(got)
        else:
            parser = parsers.create_parser("query")
            headers = HeadersDict()
            for k, v in got["headers"]:
                headers[k] = v
            parsed = parser.parse({"status_code": got["status"], "headers": headers,
                                   "body": base64.b64decode(got["body_base64"])},
                                  model.operation_model(op).output_shape)
            if normalize(parsed) != normalize(want):
                problem = "botocore parsed %s" % json.dumps(normalize(parsed))
        if problem:
            failed += 1
            print("FAIL sqs query %s %s: %s" % (kind, op, problem))
        else:
            passed += 1
    print("sqs query against botocore's model: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
