#pragma once
// The JSONata query language's templates: a JSON value whose strings of the form "{% expr %}"
// are JSONata expressions (Arguments, Output, Assign, Items, Condition, Seconds, ...). Compiled
// once with the definition; evaluated with $states and the execution's variables bound.
//
// Thread-safe: a compiled template is immutable.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "jsonata/jsonata.h"

namespace stratus::services::stepfunctions {

class JsonataTemplate {
 public:
  // `field` names the template's field for error messages ("Arguments", "Output").
  static Result<JsonataTemplate> Compile(const Json& tmpl, std::string field);
  // Evaluates. An expression that yields undefined is an error naming its field path
  // ("Arguments/FunctionName"); evaluation errors become States.QueryEvaluationError.
  Result<Json> Evaluate(const jsonata::Bindings& bindings) const;
  // True when the whole template is one expression (the value is its result).
  bool is_expression() const { return root_ && root_->expr.has_value(); }
  const std::string& field() const { return field_; }
  // The source text when the template is a single expression.
  std::string source() const;

 private:
  struct Node {
    Json literal;
    bool has_expr = false;  // this node or a descendant has an expression
    std::optional<jsonata::Expression> expr;
    std::string path;  // field path for errors
    std::vector<std::pair<std::string, std::shared_ptr<Node>>> members;
    std::vector<std::shared_ptr<Node>> items;
    bool is_object = false, is_array = false;
  };
  static Result<std::shared_ptr<Node>> CompileNode(const Json& j, const std::string& path);
  static Result<Json> EvalNode(const Node& n, const jsonata::Bindings& b);
  std::shared_ptr<Node> root_;
  std::string field_;
};

// "{% expr %}" → "expr"; nullopt when `s` is not of that form.
std::optional<std::string_view> JsonataExpressionText(std::string_view s);

// Bindings for one evaluation: the Step Functions functions, $states, and every visible variable.
jsonata::Bindings MakeJsonataBindings(const Json& states, const std::vector<std::pair<std::string, const Json*>>& vars);

}  // namespace stratus::services::stepfunctions
