// What deciding one request costs the authorizer: Evaluate over realistic policy sets (parsed
// once, as the authorizer caches them), and parsing a policy. Goal: >= 1 000 000 evaluations/s on
// one core. Figures go to docs/iam.md and docs/PERFORMANCE.md.
//
//   bench_iam [--benchmark_filter=...]
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "identity/policy/policy.h"

namespace stratus::identity::policy {
namespace {

constexpr std::string_view kAccount = "111122223333";
constexpr std::string_view kUser = "arn:aws:iam::111122223333:user/alice";

// A developer's policies: a managed read-only-ish policy, a team policy with conditions and
// variables, and a guard-rail deny.
const char* kManaged = R"({"Version":"2012-10-17","Statement":[
  {"Sid":"Read","Effect":"Allow","Action":["s3:Get*","s3:List*","dynamodb:Describe*","dynamodb:Get*",
    "dynamodb:Query","dynamodb:Scan","sqs:Get*","sqs:List*","sns:Get*","sns:List*","lambda:Get*",
    "lambda:List*","logs:Describe*","logs:Get*","logs:FilterLogEvents","states:Describe*","states:List*"],
   "Resource":"*"}]})";
const char* kTeam = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Action":["sqs:SendMessage","sqs:ReceiveMessage","sqs:DeleteMessage"],
   "Resource":"arn:aws:sqs:*:111122223333:team-*"},
  {"Effect":"Allow","Action":["dynamodb:PutItem","dynamodb:UpdateItem","dynamodb:DeleteItem"],
   "Resource":["arn:aws:dynamodb:us-east-1:111122223333:table/orders","arn:aws:dynamodb:us-east-1:111122223333:table/orders/index/*"],
   "Condition":{"StringEquals":{"aws:RequestedRegion":"us-east-1"}}},
  {"Effect":"Allow","Action":["s3:PutObject","s3:DeleteObject"],"Resource":"arn:aws:s3:::home/${aws:username}/*"},
  {"Effect":"Allow","Action":"lambda:InvokeFunction","Resource":"arn:aws:lambda:us-east-1:111122223333:function:team-*",
   "Condition":{"IpAddress":{"aws:SourceIp":["10.0.0.0/8","192.168.0.0/16"]}}}]})";
const char* kGuard = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Deny","Action":["iam:*","organizations:*","account:*"],"Resource":"*"},
  {"Effect":"Deny","Action":"s3:*","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"},
   "StringNotEquals":{"aws:PrincipalTag/env":"dev"}}}]})";
const char* kBucketPolicy = R"({"Version":"2012-10-17","Statement":[
  {"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"s3:GetObject","Resource":"arn:aws:s3:::home/*"},
  {"Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::home/*",
   "Condition":{"StringNotEquals":{"aws:PrincipalAccount":"111122223333"}}}]})";

struct Fixture {
  std::vector<PolicyPtr> owned;
  std::vector<const Policy*> identity;
  PolicyPtr bucket;
  RequestContext context;
  Fixture() {
    for (const char* doc : {kManaged, kTeam, kGuard}) {
      owned.push_back(*ParsePolicy(doc, PolicyKind::kIdentity));
      identity.push_back(owned.back().get());
    }
    bucket = *ParsePolicy(kBucketPolicy, PolicyKind::kResource);
    // What the authorizer sets for every request.
    context.Set("aws:CurrentTime", "2026-06-01T12:00:00Z");
    context.Set("aws:EpochTime", "1780315200");
    context.Set("aws:SecureTransport", "false");
    context.Set("aws:RequestedRegion", "us-east-1");
    context.Set("aws:SourceIp", "10.1.2.3");
    context.Set("aws:PrincipalAccount", std::string(kAccount));
    context.Set("aws:PrincipalArn", std::string(kUser));
    context.Set("aws:PrincipalType", "User");
    context.Set("aws:username", "alice");
    context.Set("aws:PrincipalTag/env", "dev");
  }
};

Fixture& F() {
  static Fixture f;
  return f;
}

void Run(benchmark::State& state, std::string_view action, std::string_view resource,
         bool with_bucket_policy, Decision want) {
  Fixture& f = F();
  EvaluationInput in;
  in.request.principal = Principal{PrincipalType::kUser, kUser, "", kAccount};
  in.request.action = action;
  in.request.resource = resource;
  in.request.context = &f.context;
  in.identity = f.identity;
  in.resource_policy = with_bucket_policy ? f.bucket.get() : nullptr;
  if (Evaluate(in).decision != want) {
    state.SkipWithError("unexpected decision");
    return;
  }
  for (auto _ : state) {
    benchmark::DoNotOptimize(Evaluate(in));
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_AllowByWildcardAction(benchmark::State& s) {
  Run(s, "dynamodb:GetItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders", false, Decision::kAllow);
}
void BM_AllowWithConditions(benchmark::State& s) {
  Run(s, "dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:111122223333:table/orders", false, Decision::kAllow);
}
void BM_AllowWithVariable(benchmark::State& s) {
  Run(s, "s3:PutObject", "arn:aws:s3:::home/alice/notes.txt", true, Decision::kAllow);
}
void BM_ImplicitDeny(benchmark::State& s) {
  Run(s, "sqs:SendMessage", "arn:aws:sqs:us-east-1:111122223333:payments", false, Decision::kImplicitDeny);
}
void BM_ExplicitDeny(benchmark::State& s) {
  Run(s, "iam:CreateUser", "arn:aws:iam::111122223333:user/x", false, Decision::kExplicitDeny);
}
BENCHMARK(BM_AllowByWildcardAction);
BENCHMARK(BM_AllowWithConditions);
BENCHMARK(BM_AllowWithVariable);
BENCHMARK(BM_ImplicitDeny);
BENCHMARK(BM_ExplicitDeny);

void BM_ParseTeamPolicy(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(ParsePolicy(kTeam, PolicyKind::kIdentity));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ParseTeamPolicy);

}  // namespace
}  // namespace stratus::identity::policy
