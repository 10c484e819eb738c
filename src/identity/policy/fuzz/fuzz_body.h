#pragma once
// One fuzz input through the policy parser and the condition evaluator: the bytes are parsed as
// each kind of policy; a policy that parses is evaluated against requests whose action,
// resource and context values come from the same bytes. Nothing may crash, hang or take more
// than linear time; shared by the libFuzzer target and the deterministic mutation-loop test.
#include <string>
#include <string_view>

#include "identity/policy/policy.h"

namespace stratus::identity::policy {

inline void FuzzPolicyOnce(std::string_view data) {
  // The tail after the first NUL (if any) feeds the request; the head is the document.
  size_t split = data.find('\0');
  std::string_view doc = data.substr(0, split);
  std::string tail(split == std::string_view::npos ? std::string_view("x") : data.substr(split + 1));
  RequestContext context;
  context.Set("aws:SourceIp", tail.size() > 3 ? "10.0.0." + std::to_string(tail[0] & 0xff) : "::1");
  context.Set("aws:CurrentTime", "2026-06-01T12:00:00Z");
  context.Set("aws:username", tail);
  context.Set("aws:PrincipalTag/team", tail);
  context.SetMulti("aws:TagKeys", {tail, "env"});
  context.Set("s3:max-keys", std::to_string(tail.size()));
  for (PolicyKind kind : {PolicyKind::kIdentity, PolicyKind::kResource, PolicyKind::kTrust}) {
    auto parsed = ParsePolicy(doc, kind);
    if (!parsed.ok()) continue;
    const Policy* p = parsed->get();
    for (std::string_view action : {std::string_view("s3:GetObject"), std::string_view(tail)}) {
      for (std::string resource : {std::string("arn:aws:s3:::b/") + tail, tail, std::string("*")}) {
        EvaluationInput in;
        in.request.principal = Principal{PrincipalType::kUser, "arn:aws:iam::111122223333:user/u", "", "111122223333"};
        in.request.action = action;
        in.request.resource = resource;
        in.request.context = &context;
        const Policy* one[] = {p};
        if (kind == PolicyKind::kIdentity) {
          in.identity = one;
          in.boundary = p;
          in.session = one;
          in.has_session_policies = true;
        } else {
          in.resource_policy = p;
        }
        (void)Evaluate(in);
        for (const auto& st : p->statements) (void)StatementApplies(st, in.request, p->variables_enabled(), kind);
      }
    }
  }
}

}  // namespace stratus::identity::policy
