#include "jsonata/jsonata.h"

#include <new>

#include "jsonata/ast.h"
#include "jsonata/evaluator.h"

namespace stratus::jsonata {

using internal::JError;
using internal::Value;

namespace {

constexpr int kApiErrorStatus = 400;

Error ToError(const JError& e) {
  Error err(e.code, internal::ErrorMessage(e), kApiErrorStatus);
  err.fields["position"] = e.position;
  if (e.has_token) err.fields["token"] = e.token;
  if (e.value.IsDefined() && !e.value.IsFunction()) err.fields["value"] = internal::ToJson(e.value);
  return err;
}

MaybeJson ToMaybe(const Value& v) {
  if (v.IsUndefined()) return std::nullopt;
  if (v.IsFunction()) return Json("");  // JSON.stringify would drop it; keep a marker
  return internal::ToJson(v);
}

Value FromMaybe(const MaybeJson& j) { return j ? internal::FromJson(*j) : Value(); }

}  // namespace

// ---- Input ----
Input::Input() : value_(std::make_shared<Value>()) {}
Input::Input(const Json& json) {
  try {
    value_ = std::make_shared<Value>(internal::FromJson(json));
  } catch (const JError& e) {
    value_ = std::make_shared<Value>();
    error_ = std::make_shared<const Error>(ToError(e));
  }
}
Input::~Input() = default;
Input::Input(const Input&) = default;
Input& Input::operator=(const Input&) = default;

// ---- Bindings ----
Bindings::Bindings() : scope_(std::make_shared<internal::ExternalScope>()) {}
Bindings::~Bindings() = default;
Bindings::Bindings(const Bindings&) = default;
Bindings& Bindings::operator=(const Bindings&) = default;

void Bindings::Unshare() {
  // Copy-on-write: a Bindings copy shares its scope until one of them is modified.
  if (scope_.use_count() > 1) {
    auto copy = std::make_shared<internal::ExternalScope>();
    copy->vars = scope_->vars;
    for (const auto& n : scope_->natives) copy->natives.push_back(std::make_unique<internal::NativeDef>(*n));
    // re-point function values at the copied definitions
    for (auto& [name, v] : copy->vars) {
      if (v.IsFunction() && v.AsFunction().type == internal::FunctionData::Type::kNative) {
        for (const auto& n : copy->natives) {
          if (n->name == name) {
            auto* f = new internal::FunctionData(internal::FunctionData::Type::kNative);
            f->native = n.get();
            v = Value::Adopt(f);
          }
        }
      }
    }
    scope_ = std::move(copy);
  }
}

Bindings& Bindings::Set(const std::string& name, const Json& value) {
  Unshare();
  scope_->vars[name] = internal::FromJson(value);
  return *this;
}

Status Bindings::SetFunction(const std::string& name, const std::string& signature, int arity, NativeFunction fn) {
  Unshare();
  auto def = std::make_unique<internal::NativeDef>();
  def->name = name;
  def->arity = arity;
  if (!signature.empty()) {
    try {
      def->signature = internal::ParseSignature(signature);
    } catch (const JError& e) {
      return ToError(e);
    }
  }
  def->call = [fn = std::move(fn), name](internal::Evaluator&, const internal::Args& args) -> Value {
    std::vector<MaybeJson> in;
    in.reserve(args.size());
    for (const auto& a : args) in.push_back(ToMaybe(a));
    Result<MaybeJson> r = fn(in);
    if (!r.ok()) {
      JError e(r.error().code);
      e.detail = r.error().message;
      e.Token(name);
      throw e;
    }
    return FromMaybe(*r);
  };
  auto* f = new internal::FunctionData(internal::FunctionData::Type::kNative);
  f->native = def.get();
  scope_->natives.push_back(std::move(def));
  scope_->vars[name] = Value::Adopt(f);
  return Status::Ok();
}

Result<Bindings> Bindings::FromJson(const Json& object) {
  Bindings b;
  if (!object.is_object()) return Error("T0001", "bindings must be a JSON object", kApiErrorStatus);
  for (auto it = object.begin(); it != object.end(); ++it) b.Set(it.key(), it.value());
  return b;
}

// ---- Expression ----
Result<Expression> Expression::Compile(std::string_view text) {
  try {
    std::shared_ptr<const internal::Program> p = internal::ParseProgram(text);
    return Expression(std::move(p));
  } catch (const JError& e) {
    return ToError(e);
  } catch (const std::bad_alloc&) {
    return Error(internal::kCodeSizeLimit, "out of memory compiling the expression", kApiErrorStatus);
  }
}

const std::string& Expression::source() const { return program_->source; }

Result<MaybeJson> Expression::Evaluate(const MaybeJson& input, const Bindings& bindings, const Limits& limits) const {
  Input in = input ? Input(*input) : Input();
  return Evaluate(in, bindings, limits);
}

Result<MaybeJson> Expression::Evaluate(const Input& input, const Bindings& bindings, const Limits& limits) const {
  auto r = EvaluateDetailed(input, bindings, limits);
  if (!r.ok()) return std::move(r).error();
  if (r->is_function) return MaybeJson(Json(""));  // JSON.stringify would drop it; keep a marker
  return std::move(r->value);
}

Result<Evaluation> Expression::EvaluateDetailed(const Input& input, const Bindings& bindings,
                                                const Limits& limits) const {
  if (input.error_ != nullptr) return *input.error_;
  internal::EvalLimits el;
  el.max_depth = limits.max_depth;
  el.time_limit = limits.time_limit;
  try {
    internal::Evaluator ev(bindings.scope_.get(), el);
    Value result = ev.Run(*program_, *input.value_);
    Evaluation out;
    if (result.IsArray() && result.AsArray().sequence && result.AsArray().items.empty()) return out;
    if (result.IsFunction()) {
      out.is_function = true;
      return out;
    }
    out.value = ToMaybe(result);
    return out;
  } catch (const JError& e) {
    return ToError(e);
  } catch (const std::bad_alloc&) {
    return Error(internal::kCodeSizeLimit, "out of memory during evaluation", kApiErrorStatus);
  } catch (const std::length_error&) {
    return Error(internal::kCodeSizeLimit, "a value exceeded the maximum size", kApiErrorStatus);
  }
}

Result<MaybeJson> Evaluate(std::string_view expression, const MaybeJson& input, const Bindings& bindings,
                           const Limits& limits) {
  auto e = Expression::Compile(expression);
  if (!e.ok()) return std::move(e).error();
  return e->Evaluate(input, bindings, limits);
}

}  // namespace stratus::jsonata
