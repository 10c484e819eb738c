#pragma once
// Mapping templates without a Velocity engine (a later issue brings one). Supported, exactly:
//   * text without any '$' or '#' directive, sent as it is (MOCK's {"statusCode": 200});
//   * the passthrough forms $input.body and $input.json('$') (alone or inside text);
//   * variable references $context.<name>[.<name>], ${context.<name>}, $stageVariables.<name>
//     and $stageVariable.<name>, substituted as text (gateway response bodies such as
//     {"message":$context.error.messageString}).
// Anything else (#set, #if, #foreach, $input.path, $input.params, $util.*) is refused with
// an error that says a Velocity engine is needed, so the gateway fails loudly (500) instead of
// sending something wrong. Pure; thread-safe.
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::apigateway {

struct TemplateInputs {
  const Json* context = nullptr;          // $context: nested object
  const Json* stage_variables = nullptr;  // $stageVariables: flat object
  std::string_view body;                  // $input.body / $input.json('$')
};

Result<std::string> RenderTemplate(std::string_view tpl, const TemplateInputs& in);

// True when `tpl` holds no '$' and no '#': RenderTemplate returns it unchanged whatever the
// inputs, so a caller may skip building them (MOCK's {"statusCode": 200}).
bool IsPlainTemplate(std::string_view tpl);

// True when RenderTemplate can render `tpl` (used at request time to pick the failure early).
bool IsSupportedTemplate(std::string_view tpl);

}  // namespace stratus::services::apigateway
