"""STS GetCallerIdentity through boto3 and the aws CLI (query protocol end to end)."""
import json

from conftest import aws_cli, make_client


def test_get_caller_identity_default_account(shared_stratus):
    sts = make_client(shared_stratus, "sts")
    ident = sts.get_caller_identity()
    assert ident["Account"] == "000000000000"
    assert ident["Arn"] == "arn:aws:iam::000000000000:root"
    assert ident["UserId"] == "000000000000"
    assert len(ident["ResponseMetadata"]["RequestId"]) == 36


def test_twelve_digit_access_key_selects_the_account(shared_stratus):
    sts = make_client(shared_stratus, "sts", access_key="123456789012")
    assert sts.get_caller_identity()["Account"] == "123456789012"


def test_cli_get_caller_identity(shared_stratus):
    _, out, _ = aws_cli(shared_stratus, "sts", "get-caller-identity")
    assert json.loads(out)["Account"] == "000000000000"


def test_unimplemented_sts_operation_fails_loudly(shared_stratus):
    sts = make_client(shared_stratus, "sts")
    try:
        sts.get_access_key_info(AccessKeyId="AKIAIOSFODNN7EXAMPLE")
    except sts.exceptions.ClientError as e:
        assert e.response["Error"]["Code"] == "NotImplemented"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 501
    else:
        raise AssertionError("an unimplemented operation must not succeed")
