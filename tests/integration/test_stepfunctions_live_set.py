"""Clients that act at once on what DescribeExecution answered. The runner's live set lags the
committed record at both ends of an execution (it joins just after its first commit and leaves
just after its last), so answers that consulted the live set could contradict what the client
had just read. Each case repeats a few times: the window is short. With a 400 ms sleep put into
the window (before joining, or before leaving), each case failed every time without its fix."""
import threading
import time
import uuid

import pytest
from botocore.exceptions import ClientError

from test_stepfunctions import create, sfn_client

ROUNDS = 10


@pytest.fixture(scope="module")
def sfn(shared_stratus):
    return sfn_client(shared_stratus)


def pass_machine(sfn):
    return create(sfn, {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})


def wait_machine(sfn, seconds):
    return create(sfn, {"StartAt": "W", "States": {"W": {"Type": "Wait", "Seconds": seconds, "End": True}}})


def test_start_by_name_after_the_end_is_refused(sfn):
    # AWS answers the original execution only while it runs; once DescribeExecution shows its
    # end, the same name and input again is ExecutionAlreadyExists.
    machine = pass_machine(sfn)
    for _ in range(ROUNDS):
        name = uuid.uuid4().hex
        arn = sfn.start_execution(stateMachineArn=machine, name=name, input="{}")["executionArn"]
        while sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            pass
        with pytest.raises(ClientError) as e:
            sfn.start_execution(stateMachineArn=machine, name=name, input="{}")
        assert e.value.response["Error"]["Code"] == "ExecutionAlreadyExists"


def test_concurrent_starts_by_name_both_answer_the_execution(shared_stratus, sfn):
    # The second StartExecution finds the first one's record RUNNING: the same execution.
    machine = wait_machine(sfn, 5)
    other = sfn_client(shared_stratus)
    for _ in range(ROUNDS):
        name = uuid.uuid4().hex
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + name
        first = {}
        t = threading.Thread(target=lambda: first.update(
            sfn.start_execution(stateMachineArn=machine, name=name, input='{"a": 1}')))
        t.start()
        while True:
            try:
                other.describe_execution(executionArn=arn)
                break
            except ClientError:
                pass
        second = other.start_execution(stateMachineArn=machine, name=name, input='{"a": 1}')
        t.join()
        assert second["executionArn"] == first["executionArn"] == arn
        other.stop_execution(executionArn=arn)


def test_stop_of_an_execution_seen_running_as_it_starts(shared_stratus, sfn):
    # A client that reads the execution RUNNING (its name fixes its ARN) while StartExecution is
    # being answered stops it.
    machine = wait_machine(sfn, 5)
    other = sfn_client(shared_stratus)
    for _ in range(ROUNDS):
        name = uuid.uuid4().hex
        arn = machine.replace(":stateMachine:", ":execution:") + ":" + name
        t = threading.Thread(target=lambda: sfn.start_execution(stateMachineArn=machine, name=name, input="{}"))
        t.start()
        while True:
            try:
                assert other.describe_execution(executionArn=arn)["status"] == "RUNNING"
                break
            except ClientError:
                pass
        other.stop_execution(executionArn=arn)
        t.join()
        assert other.describe_execution(executionArn=arn)["status"] == "ABORTED"


def test_stop_of_an_execution_seen_running_as_it_ends(sfn):
    # The execution ends between the client's DescribeExecution and its StopExecution: the stop
    # is answered, and the execution keeps its end. The stops land around the end of a 1 s Wait.
    machine = wait_machine(sfn, 1)
    for offset in (0.8, 0.85, 0.9, 0.95, 1.0, 1.05, 1.1):
        arn = sfn.start_execution(stateMachineArn=machine, input="{}")["executionArn"]
        time.sleep(offset)
        if sfn.describe_execution(executionArn=arn)["status"] == "RUNNING":
            sfn.stop_execution(executionArn=arn)
        assert sfn.describe_execution(executionArn=arn)["status"] in ("SUCCEEDED", "ABORTED")
