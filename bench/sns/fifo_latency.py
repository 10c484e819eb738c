"""Not a test: sequential Publish latency (p50/p99) and server CPU per publish, standard topic ->
standard queue vs FIFO topic -> FIFO queue (raw delivery), 400 publishes each, twice.
Run: STRATUS_BIN=build/stratus /usr/bin/python3 bench/sns/fifo_latency.py"""
import os, sys, tempfile, time, statistics
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "integration"))
from conftest import Stratus, make_client
def cpu(pid):
    f = open(f"/proc/{pid}/stat").read().split(")")[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")
with tempfile.TemporaryDirectory() as d:
    s = Stratus(d, []).start()
    sns, sqs = make_client(s, "sns"), make_client(s, "sqs")
    res = {}
    for fifo in (False, True, False, True):
        sfx = ".fifo" if fifo else ""
        name = f"b{int(time.time()*1000)}"
        attrs = {"FifoTopic": "true"} if fifo else {}
        t = sns.create_topic(Name=name + sfx, Attributes=attrs)["TopicArn"]
        q = sqs.create_queue(QueueName=name + sfx, Attributes={"FifoQueue": "true"} if fifo else {})["QueueUrl"]
        a = sqs.get_queue_attributes(QueueUrl=q, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=t, Protocol="sqs", Endpoint=a, Attributes={"RawMessageDelivery": "true"})
        lat = []
        c0 = cpu(s.proc.pid)
        for i in range(400):
            kw = {"MessageGroupId": "g", "MessageDeduplicationId": f"d{i}"} if fifo else {}
            t0 = time.perf_counter()
            sns.publish(TopicArn=t, Message=f"m{i}", **kw)
            lat.append((time.perf_counter() - t0) * 1000)
        c1 = cpu(s.proc.pid)
        lat.sort()
        print(("fifo" if fifo else "std "), f"p50 {lat[200]:.2f} ms p99 {lat[396]:.2f} ms server CPU/publish {1e6*(c1-c0)/400:.0f} us")
    s.stop()
