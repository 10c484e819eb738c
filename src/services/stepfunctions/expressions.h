#pragma once
// The JSONPath query language's expressions: references ("$.a", "$$.Execution.Id", "$var.x"),
// intrinsic functions ("States.Format('{}', $.x)"), and payload templates (Parameters,
// ResultSelector, ItemSelector, Assign: objects whose "key.$" members are evaluated).
// Everything is compiled once with the definition and evaluated per state visit.
//
// Thread-safe: compiled objects are immutable.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "services/stepfunctions/json_path.h"

namespace stratus::services::stepfunctions {

// Where variables ($name) are looked up during an evaluation.
class VariableLookup {
 public:
  virtual ~VariableLookup() = default;
  // The variable's value, or nullptr when it is not defined in any visible scope.
  virtual const Json* Find(std::string_view name) const = 0;
};

// What an expression evaluates against.
struct EvalEnv {
  const Json& input;                 // $
  const Json& context;               // $$
  const VariableLookup* vars = nullptr;
};

// A reference: "$..." (input), "$$..." (context object) or "$name..." (a variable).
struct ValueRef {
  enum class Root { kInput, kContext, kVariable };
  Root root = Root::kInput;
  std::string variable;
  JsonPath path;
  std::string text;  // as written

  static Result<ValueRef> Parse(std::string_view text);
  // Jayway semantics (see JsonPath::Read); a missing variable is an error.
  Result<Json> Read(const EvalEnv& env) const;
  const Json* Find(const EvalEnv& env) const;
};

struct IntrinsicCall;

// One argument of an intrinsic call.
struct IntrinsicArg {
  enum class Kind { kLiteral, kRef, kCall };
  Kind kind = Kind::kLiteral;
  Json literal;
  std::shared_ptr<const ValueRef> ref;
  std::shared_ptr<const IntrinsicCall> call;
};

struct IntrinsicCall {
  std::string name;  // "States.Format"
  std::vector<IntrinsicArg> args;
  std::string text;

  static Result<IntrinsicCall> Parse(std::string_view text);
  // Errors are States.Runtime / States.IntrinsicFailure with AWS's messages.
  Result<Json> Evaluate(const EvalEnv& env) const;
};

// A "key.$" value: a reference or an intrinsic call.
struct DynamicValue {
  std::shared_ptr<const ValueRef> ref;
  std::shared_ptr<const IntrinsicCall> call;
  static Result<DynamicValue> Parse(std::string_view text);
  Result<Json> Evaluate(const EvalEnv& env, std::string_view field) const;
};

// A payload template: a JSON tree whose "name.$" members are evaluated.
class PayloadTemplate {
 public:
  static Result<PayloadTemplate> Compile(const Json& tmpl);
  Result<Json> Evaluate(const EvalEnv& env) const;
  bool empty() const { return !root_; }

 private:
  struct Node {
    Json literal;  // used when !dynamic and no children
    bool is_object = false, is_array = false, has_dynamic = false;
    std::vector<std::pair<std::string, std::shared_ptr<Node>>> members;  // object (key without .$)
    std::vector<std::shared_ptr<Node>> items;                             // array
    std::optional<DynamicValue> dynamic;
    std::string field;  // the key as written, for error messages
  };
  static Result<std::shared_ptr<Node>> CompileNode(const Json& j);
  static Result<Json> EvalNode(const Node& n, const EvalEnv& env);
  std::shared_ptr<Node> root_;
};

// Intrinsic function implementations (intrinsics.cc), exposed for unit tests.
Result<Json> CallIntrinsic(std::string_view name, std::vector<Json> args);

}  // namespace stratus::services::stepfunctions
