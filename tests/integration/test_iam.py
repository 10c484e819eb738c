"""IAM's API through boto3 and the aws CLI (query protocol): users, groups, roles, managed and
inline policies with versions, attachments, access keys, instance profiles, boundaries, tags,
GetAccountAuthorizationDetails, the simulator, and IAM's errors for bad input."""
import json
import time
import urllib.parse

import pytest
from botocore.exceptions import ClientError

from conftest import aws_cli, make_client

ACCOUNT = "000000000000"
S3_READ = {"Version": "2012-10-17",
           "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "s3:ListBucket"],
                          "Resource": ["arn:aws:s3:::data", "arn:aws:s3:::data/*"]}]}
TRUST_LAMBDA = {"Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                               "Action": "sts:AssumeRole"}]}


@pytest.fixture(scope="module")
def iam(shared_stratus):
    return make_client(shared_stratus, "iam")


def code_of(fn, *args, **kw):
    with pytest.raises(ClientError) as e:
        fn(*args, **kw)
    return e.value.response["Error"]["Code"]


def test_users_groups_and_membership(iam):
    u = iam.create_user(UserName="alice", Path="/eng/", Tags=[{"Key": "team", "Value": "core"}])["User"]
    assert u["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/eng/alice"
    assert u["UserId"].startswith("AIDA")
    assert code_of(iam.create_user, UserName="Alice") == "EntityAlreadyExists"
    assert iam.get_user(UserName="alice")["User"]["Tags"] == [{"Key": "team", "Value": "core"}]
    iam.create_group(GroupName="devs")
    iam.add_user_to_group(GroupName="devs", UserName="alice")
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName="alice")["Groups"]] == ["devs"]
    assert [x["UserName"] for x in iam.get_group(GroupName="devs")["Users"]] == ["alice"]
    assert "alice" in [x["UserName"] for x in iam.list_users(PathPrefix="/eng/")["Users"]]
    assert code_of(iam.delete_group, GroupName="devs") == "DeleteConflict"
    iam.remove_user_from_group(GroupName="devs", UserName="alice")
    iam.delete_group(GroupName="devs")
    iam.update_user(UserName="alice", NewUserName="alice2")
    assert code_of(iam.get_user, UserName="alice") == "NoSuchEntity"
    iam.tag_user(UserName="alice2", Tags=[{"Key": "env", "Value": "dev"}])
    iam.untag_user(UserName="alice2", TagKeys=["team"])
    assert iam.list_user_tags(UserName="alice2")["Tags"] == [{"Key": "env", "Value": "dev"}]
    iam.delete_user(UserName="alice2")


def test_roles_trust_policies_and_instance_profiles(iam):
    r = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA),
                        Description="functions", MaxSessionDuration=7200)["Role"]
    assert r["Arn"] == f"arn:aws:iam::{ACCOUNT}:role/fn-role"
    assert r["RoleId"].startswith("AROA")
    got = iam.get_role(RoleName="fn-role")["Role"]
    # botocore decodes the URL-encoded document into a dict.
    assert got["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert got["MaxSessionDuration"] == 7200
    iam.update_assume_role_policy(RoleName="fn-role", PolicyDocument=json.dumps(TRUST_LAMBDA))
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="fn-role")
    prof = iam.get_instance_profile(InstanceProfileName="web")["InstanceProfile"]
    assert [x["RoleName"] for x in prof["Roles"]] == ["fn-role"]
    assert [p["InstanceProfileName"] for p in
            iam.list_instance_profiles_for_role(RoleName="fn-role")["InstanceProfiles"]] == ["web"]
    assert code_of(iam.delete_role, RoleName="fn-role") == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName="web", RoleName="fn-role")
    iam.delete_instance_profile(InstanceProfileName="web")
    iam.delete_role(RoleName="fn-role")
    assert code_of(iam.get_role, RoleName="fn-role") == "NoSuchEntity"


def test_managed_policies_versions_and_attachments(iam):
    arn = iam.create_policy(PolicyName="s3-read", PolicyDocument=json.dumps(S3_READ),
                            Description="read data")["Policy"]["Arn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:policy/s3-read"
    v2 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(S3_READ),
                                   SetAsDefault=True)["PolicyVersion"]
    assert v2["VersionId"] == "v2" and v2["IsDefaultVersion"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v2"
    doc = iam.get_policy_version(PolicyArn=arn, VersionId="v1")["PolicyVersion"]["Document"]
    assert doc == S3_READ
    assert code_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v2") == "DeleteConflict"
    iam.delete_policy_version(PolicyArn=arn, VersionId="v1")
    iam.create_user(UserName="bob")
    iam.create_group(GroupName="readers")
    iam.create_role(RoleName="reader", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
    iam.attach_user_policy(UserName="bob", PolicyArn=arn)
    iam.attach_group_policy(GroupName="readers", PolicyArn=arn)
    iam.attach_role_policy(RoleName="reader", PolicyArn=arn)
    iam.attach_role_policy(RoleName="reader", PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    ents = iam.list_entities_for_policy(PolicyArn=arn)
    assert [x["UserName"] for x in ents["PolicyUsers"]] == ["bob"]
    assert [x["RoleName"] for x in ents["PolicyRoles"]] == ["reader"]
    assert sorted(p["PolicyName"] for p in iam.list_attached_role_policies(RoleName="reader")["AttachedPolicies"]) \
        == ["ReadOnlyAccess", "s3-read"]
    assert "s3-read" in [p["PolicyName"] for p in iam.list_policies(Scope="Local")["Policies"]]
    assert code_of(iam.delete_policy, PolicyArn=arn) == "DeleteConflict"
    assert code_of(iam.attach_user_policy, UserName="bob",
                   PolicyArn=f"arn:aws:iam::{ACCOUNT}:policy/none") == "NoSuchEntity"
    for fn, kw in ((iam.detach_user_policy, {"UserName": "bob"}),
                   (iam.detach_group_policy, {"GroupName": "readers"}),
                   (iam.detach_role_policy, {"RoleName": "reader"})):
        fn(PolicyArn=arn, **kw)
    iam.delete_policy(PolicyArn=arn)


def test_inline_policies(iam):
    iam.create_user(UserName="carol")
    iam.put_user_policy(UserName="carol", PolicyName="inline", PolicyDocument=json.dumps(S3_READ))
    assert iam.list_user_policies(UserName="carol")["PolicyNames"] == ["inline"]
    got = iam.get_user_policy(UserName="carol", PolicyName="inline")
    assert got["PolicyDocument"] == S3_READ
    assert code_of(iam.get_user_policy, UserName="carol", PolicyName="other") == "NoSuchEntity"
    iam.delete_user_policy(UserName="carol", PolicyName="inline")
    assert iam.list_user_policies(UserName="carol")["PolicyNames"] == []


def test_access_keys(iam, shared_stratus):
    iam.create_user(UserName="dave")
    key = iam.create_access_key(UserName="dave")["AccessKey"]
    assert key["AccessKeyId"].startswith("AKIA") and len(key["SecretAccessKey"]) == 40
    # The key identifies the user, even without enforcement.
    sts = make_client(shared_stratus, "sts", access_key=key["AccessKeyId"])
    ident = sts.get_caller_identity()
    assert ident["Arn"] == f"arn:aws:iam::{ACCOUNT}:user/dave"
    last = iam.get_access_key_last_used(AccessKeyId=key["AccessKeyId"])
    assert last["UserName"] == "dave"
    assert last["AccessKeyLastUsed"]["ServiceName"] == "sts"
    iam.update_access_key(UserName="dave", AccessKeyId=key["AccessKeyId"], Status="Inactive")
    meta = iam.list_access_keys(UserName="dave")["AccessKeyMetadata"]
    assert [(m["AccessKeyId"], m["Status"]) for m in meta] == [(key["AccessKeyId"], "Inactive")]
    iam.create_access_key(UserName="dave")
    assert code_of(iam.create_access_key, UserName="dave") == "LimitExceeded"
    iam.delete_access_key(UserName="dave", AccessKeyId=key["AccessKeyId"])
    assert len(iam.list_access_keys(UserName="dave")["AccessKeyMetadata"]) == 1


def test_permission_boundaries_and_policy_tags(iam):
    arn = iam.create_policy(PolicyName="boundary", PolicyDocument=json.dumps(S3_READ),
                            Tags=[{"Key": "kind", "Value": "boundary"}])["Policy"]["Arn"]
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "kind", "Value": "boundary"}]
    iam.create_user(UserName="erin", PermissionsBoundary=arn)
    assert iam.get_user(UserName="erin")["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    iam.create_role(RoleName="bounded", AssumeRolePolicyDocument=json.dumps(TRUST_LAMBDA))
    iam.put_role_permissions_boundary(RoleName="bounded", PermissionsBoundary=arn)
    assert iam.get_role(RoleName="bounded")["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == arn
    assert code_of(iam.delete_policy, PolicyArn=arn) == "DeleteConflict"
    iam.delete_role_permissions_boundary(RoleName="bounded")
    iam.delete_user_permissions_boundary(UserName="erin")
    assert "PermissionsBoundary" not in iam.get_role(RoleName="bounded")["Role"]
    iam.delete_policy(PolicyArn=arn)


def test_account_authorization_details(iam):
    iam.create_user(UserName="frank")
    iam.put_user_policy(UserName="frank", PolicyName="p", PolicyDocument=json.dumps(S3_READ))
    d = iam.get_account_authorization_details()
    users = {u["UserName"]: u for u in d["UserDetailList"]}
    assert users["frank"]["UserPolicyList"][0]["PolicyDocument"] == S3_READ
    d = iam.get_account_authorization_details(Filter=["Role"])
    assert d["UserDetailList"] == [] and isinstance(d["RoleDetailList"], list)


def test_simulate_custom_and_principal_policy(iam):
    deny_tmp = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::data/*",
         "Condition": {"StringNotEquals": {"aws:username": "admin"}}}]}
    r = iam.simulate_custom_policy(PolicyInputList=[json.dumps(deny_tmp)],
                                   ActionNames=["s3:GetObject", "s3:DeleteObject"],
                                   ResourceArns=["arn:aws:s3:::data/x"],
                                   ContextEntries=[{"ContextKeyName": "aws:username",
                                                    "ContextKeyValues": ["gina"],
                                                    "ContextKeyType": "string"}])
    decisions = {e["EvalActionName"]: e["EvalDecision"] for e in r["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:DeleteObject": "explicitDeny"}
    iam.create_user(UserName="gina")
    iam.put_user_policy(UserName="gina", PolicyName="p", PolicyDocument=json.dumps(S3_READ))
    r = iam.simulate_principal_policy(PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/gina",
                                      ActionNames=["s3:GetObject", "s3:PutObject"],
                                      ResourceArns=["arn:aws:s3:::data/k"])
    decisions = {e["EvalActionName"]: e["EvalDecision"] for e in r["EvaluationResults"]}
    assert decisions == {"s3:GetObject": "allowed", "s3:PutObject": "implicitDeny"}
    assert code_of(iam.simulate_principal_policy, PolicySourceArn=f"arn:aws:iam::{ACCOUNT}:user/none",
                   ActionNames=["s3:GetObject"]) == "NoSuchEntity"


def test_openid_connect_providers(iam):
    arn = iam.create_open_id_connect_provider(Url="https://idp.example.com", ClientIDList=["app"],
                                              ThumbprintList=["a" * 40])["OpenIDConnectProviderArn"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:oidc-provider/idp.example.com"
    iam.add_client_id_to_open_id_connect_provider(OpenIDConnectProviderArn=arn, ClientID="app2")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    assert sorted(got["ClientIDList"]) == ["app", "app2"]
    assert code_of(iam.create_open_id_connect_provider, Url="https://idp.example.com",
                   ThumbprintList=["a" * 40]) == "EntityAlreadyExists"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=arn)


def test_malformed_policies_get_iams_errors(iam):
    assert code_of(iam.create_policy, PolicyName="bad", PolicyDocument="{not json") == "MalformedPolicyDocument"
    bad_effect = {"Version": "2012-10-17", "Statement": [{"Effect": "Perhaps", "Action": "*", "Resource": "*"}]}
    with pytest.raises(ClientError) as e:
        iam.create_policy(PolicyName="bad", PolicyDocument=json.dumps(bad_effect))
    assert e.value.response["Error"]["Code"] == "MalformedPolicyDocument"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    no_resource = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*"}]}
    assert code_of(iam.create_policy, PolicyName="bad", PolicyDocument=json.dumps(no_resource)) \
        == "MalformedPolicyDocument"
    # A trust policy without a principal.
    assert code_of(iam.create_role, RoleName="bad", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]})) \
        == "MalformedPolicyDocument"


def test_huge_and_hostile_policies_are_refused_quickly(iam, shared_stratus):
    huge = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::b{i}/*"} for i in range(10000)]}
    start = time.time()
    assert code_of(iam.create_policy, PolicyName="huge", PolicyDocument=json.dumps(huge)) \
        in ("LimitExceeded", "ValidationError")
    # Wildcards built to make a backtracking matcher exponential: matching stays linear.
    hostile = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:" + "*a" * 40 + "b", "Resource": "arn:aws:s3:::" + "*a" * 40 + "b"}]}
    r = iam.simulate_custom_policy(PolicyInputList=[json.dumps(hostile)], ActionNames=["s3:" + "a" * 120],
                                   ResourceArns=["arn:aws:s3:::" + "a" * 1000])
    assert r["EvaluationResults"][0]["EvalDecision"] == "implicitDeny"
    assert time.time() - start < 30  # exponential matching would take hours; loose for load
    assert shared_stratus.alive()
    assert iam.list_users()["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_cli_round_trip(shared_stratus):
    _, out, _ = aws_cli(shared_stratus, "iam", "create-user", "--user-name", "cli-user")
    assert json.loads(out)["User"]["UserName"] == "cli-user"
    _, out, _ = aws_cli(shared_stratus, "iam", "put-user-policy", "--user-name", "cli-user",
                        "--policy-name", "p", "--policy-document", json.dumps(S3_READ))
    _, out, _ = aws_cli(shared_stratus, "iam", "get-user-policy", "--user-name", "cli-user",
                        "--policy-name", "p")
    assert json.loads(out)["PolicyDocument"] == S3_READ
    code, _, err = aws_cli(shared_stratus, "iam", "get-user", "--user-name", "nobody", check=False)
    assert code != 0 and "NoSuchEntity" in err


def test_state_survives_restart(stratus):
    iam = make_client(stratus, "iam")
    iam.create_user(UserName="durable")
    key = iam.create_access_key(UserName="durable")["AccessKey"]["AccessKeyId"]
    stratus.restart()
    iam = make_client(stratus, "iam")
    assert iam.get_user(UserName="durable")["User"]["UserName"] == "durable"
    assert iam.list_access_keys(UserName="durable")["AccessKeyMetadata"][0]["AccessKeyId"] == key
