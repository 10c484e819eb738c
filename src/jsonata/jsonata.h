#pragma once
// JSONata, the JSON query and transformation language (https://jsonata.org), in native C++.
//
// What: Expression::Compile parses an expression once; Expression::Evaluate runs it against an
// input document any number of times, with optional variable bindings and extra native
// functions. The language is the one jsonata-js 2.x defines (paths, predicates, operators,
// lambdas, regexes via RE2, transforms, every built-in function).
//
// Ownership: Expression is a cheap handle (copying shares the compiled program). Input and
// Bindings convert JSON to the evaluator's internal representation once and may be reused for
// many evaluations. Results are returned as owned stratus::Json values.
//
// Thread-safety: a compiled Expression, an Input and a Bindings object are immutable once built
// and may be used by any number of threads at once; each Evaluate call keeps its own state.
// Native functions registered in Bindings may be called concurrently and must be thread-safe.
//
// Errors: never thrown. Compile and Evaluate return stratus::Error values whose `code` is the
// reference implementation's code ("S0201" syntax error, "T2001" type error, "D3001" ...),
// whose `message` is the reference's message, and whose `fields` hold "position" (offset in the
// expression, -1 when unknown) and, when known, "token" and "value". Limits end an evaluation
// with code "U1001" (depth or time exceeded). Regex features RE2 cannot run in linear time
// (backreferences, lookaround) are compile errors with code "S0303".
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "core/result.h"

namespace stratus::jsonata {

namespace internal {
struct Program;
struct ExternalScope;
class Value;
}  // namespace internal

// A JSON value or JSONata's "undefined" (no value), which is distinct from null.
using MaybeJson = std::optional<Json>;

// What an evaluation produced, for callers that must tell a function result apart (Step
// Functions refuses it as "an unsupported result type"; Evaluate cannot show it).
struct Evaluation {
  MaybeJson value;           // the JSON result; nullopt when undefined or a function
  bool is_function = false;  // the result is a function (a lambda or a native function)
};

// A native function callable from expressions as $name(...). Arguments arrive after signature
// validation (nullopt = undefined); return nullopt for an undefined result, or an Error (its
// code and message are reported as the evaluation's error).
using NativeFunction = std::function<Result<MaybeJson>(const std::vector<MaybeJson>& args)>;

// Per-evaluation limits. Defaults keep hostile expressions from hanging or exhausting the stack.
struct Limits {
  int max_depth = 0;                           // nested evaluation depth (0 = default, 5000)
  std::chrono::milliseconds time_limit{5000};  // wall time per evaluation (0 = unlimited)
};

// A prepared input document: converted once, evaluated against many times. A document nested
// too deeply for the native stack is remembered as an error that every Evaluate returns.
class Input {
 public:
  Input();  // undefined input
  explicit Input(const Json& json);
  bool ok() const { return error_ == nullptr; }
  ~Input();
  Input(const Input&);
  Input& operator=(const Input&);

 private:
  friend class Expression;
  std::shared_ptr<const internal::Value> value_;
  std::shared_ptr<const Error> error_;
};

// Variables ($name) and native functions visible to an evaluation.
class Bindings {
 public:
  Bindings();
  ~Bindings();
  Bindings(const Bindings&);
  Bindings& operator=(const Bindings&);

  // Binds $name to a JSON value (replacing an earlier binding of the same name).
  Bindings& Set(const std::string& name, const Json& value);
  // Binds $name to a native function. `signature` uses JSONata's syntax ("<n-n:n>", "" = no
  // validation); `arity` is what higher-order functions see (e.g. $map passes the index when
  // arity >= 2). Returns an error if the signature is malformed.
  Status SetFunction(const std::string& name, const std::string& signature, int arity, NativeFunction fn);
  // Builds bindings from a JSON object of variables.
  static Result<Bindings> FromJson(const Json& object);

 private:
  friend class Expression;
  std::shared_ptr<internal::ExternalScope> scope_;
  void Unshare();
};

class Expression {
 public:
  // Parses and compiles `text`. Errors: S0xxx codes with the offending position.
  static Result<Expression> Compile(std::string_view text);

  // Evaluates against `input` (nullopt = undefined input). Returns nullopt when the result is
  // undefined. A function result is returned as "" (EvaluateDetailed tells it apart).
  Result<MaybeJson> Evaluate(const MaybeJson& input, const Bindings& bindings = Bindings(),
                             const Limits& limits = Limits()) const;
  Result<MaybeJson> Evaluate(const Input& input, const Bindings& bindings = Bindings(),
                             const Limits& limits = Limits()) const;
  // As Evaluate, but a function result is reported as such (is_function) instead of a marker.
  Result<Evaluation> EvaluateDetailed(const Input& input, const Bindings& bindings = Bindings(),
                                      const Limits& limits = Limits()) const;

  const std::string& source() const;

 private:
  explicit Expression(std::shared_ptr<const internal::Program> p) : program_(std::move(p)) {}
  std::shared_ptr<const internal::Program> program_;
};

// Convenience: compile and evaluate once.
Result<MaybeJson> Evaluate(std::string_view expression, const MaybeJson& input,
                           const Bindings& bindings = Bindings(), const Limits& limits = Limits());

}  // namespace stratus::jsonata
