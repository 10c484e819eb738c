"""The server itself: health, metrics, trace ids, startup and graceful shutdown."""
import http.client
import json
import re
import signal
import tempfile
import threading
import time

from conftest import Stratus, make_client


def get(server, path, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    conn.request("GET", path, headers=headers or {})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


def test_health_lists_services_and_loads_models_lazily(stratus):
    resp, body = get(stratus, "/_stratus/health")
    assert resp.status == 200
    health = json.loads(body)
    assert health["status"] == "ok"
    assert health["version"]
    assert health["uptime_seconds"] >= 0
    assert health["services"]["logs"] == "available"  # not loaded until used
    make_client(stratus, "logs").describe_log_groups()
    _, body = get(stratus, "/_stratus/health")
    assert json.loads(body)["services"]["logs"] == "running"
    # LocalStack-compatible probe path answers the same document.
    resp, body = get(stratus, "/_localstack/health")
    assert resp.status == 200 and "services" in json.loads(body)


def test_metrics_count_requests(stratus):
    make_client(stratus, "sts").get_caller_identity()
    _, body = get(stratus, "/_stratus/metrics")
    text = body.decode()
    assert 'stratus_requests_total{service="sts",operation="GetCallerIdentity"} 1' in text
    assert "stratus_request_seconds_bucket" in text


def test_trace_header_is_continued_or_started(stratus):
    sts = make_client(stratus, "sts")
    resp = sts.get_caller_identity()
    started = resp["ResponseMetadata"]["HTTPHeaders"]["x-amzn-trace-id"]
    assert re.match(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", started)
    root = "Root=1-5759e988-bd862e3fe1be46a994272793"
    conn = http.client.HTTPConnection("127.0.0.1", stratus.port, timeout=10)
    conn.request("GET", "/_stratus/health")
    conn.getresponse().read()
    conn.request("POST", "/", body="Action=GetCallerIdentity&Version=2011-06-15", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Amzn-Trace-Id": root + ";Sampled=1"})
    r = conn.getresponse()
    r.read()
    assert r.getheader("X-Amzn-Trace-Id").startswith(root)


def test_graceful_shutdown_answers_requests_in_flight():
    with tempfile.TemporaryDirectory() as d:
        server = Stratus(d).start()
        logs = make_client(server, "logs")
        logs.create_log_group(logGroupName="g")
        errors = []

        def hammer():
            try:
                for i in range(200):
                    logs.describe_log_groups()
            except Exception as e:  # connection refused after shutdown is expected
                errors.append(e)

        t = threading.Thread(target=hammer)
        t.start()
        time.sleep(0.2)
        assert server.stop(signal.SIGTERM) == 0
        t.join()
        assert server.wait_log("stopped")


def test_shutdown_does_not_wait_out_long_polls_or_idle_functions():
    # A 20 s SQS long poll and a warm function parked in its runtime's `next` must not hold the
    # drain up: the poll answers (empty) at once and the instance is ended.
    with tempfile.TemporaryDirectory() as d:
        from conftest import create_function
        server = Stratus(d).start()
        lam = make_client(server, "lambda")
        create_function(lam, "warm", {"app.py": "def handler(e, c):\n    return e\n"})
        assert lam.invoke(FunctionName="warm", Payload=b"{}")["StatusCode"] == 200
        sqs = make_client(server, "sqs")
        url = sqs.create_queue(QueueName="idle")["QueueUrl"]
        answered = []

        def poll():
            answered.append(sqs.receive_message(QueueUrl=url, WaitTimeSeconds=20))

        t = threading.Thread(target=poll)
        t.start()
        time.sleep(1.5)  # the poll reaches the server
        started = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0
        took = time.monotonic() - started
        t.join(timeout=15)
        # Waiting for the poll would take its 20 s; the bound is loose for a loaded machine.
        assert took < 12, f"shutdown took {took:.1f} s"
        assert answered and "Messages" not in answered[0]
        assert not any("still busy" in line for line in server.log), server.log


def test_a_second_server_on_the_same_data_dir_is_refused():
    with tempfile.TemporaryDirectory() as d:
        first = Stratus(d).start()
        try:
            second = Stratus(d)
            try:
                second.start()
                raise AssertionError("two servers opened one data directory")
            except RuntimeError as e:
                assert "data" in str(e).lower()
        finally:
            first.stop()
