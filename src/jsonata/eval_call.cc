// Function calls: evaluating a call's arguments, applying lambdas, built-ins, partial
// applications, regex matchers, native functions and chains (with the tail-call trampoline).
#include "jsonata/evaluator.h"

namespace stratus::jsonata::internal {

Value Evaluator::EvalCall(const Node* n, const Value& input, Frame* env, const Value* applied) {
  Value proc = Eval(n->procedure, input, env);
  const Node* pn = n->procedure;
  if (proc.IsUndefined() && pn->type == NodeType::kPath && pn->items[0]->type == NodeType::kName &&
      LookupVariable(pn->items[0]->op_text, env).IsDefined()) {
    JError e("T1005", n->position);
    e.Token(pn->items[0]->op_text);
    throw e;
  }
  Args args;
  args.reserve(n->items.size() + (applied != nullptr ? 1 : 0));
  if (applied != nullptr) args.push_back(*applied);
  for (const Node* a : n->items) args.push_back(Eval(a, input, env));
  try {
    pending_call_ = n;
    return Apply(proc, std::move(args), input, env);
  } catch (JError& e) {
    if (e.position < 0) e.position = n->position;
    if (!e.has_token) e.Token(pn->type == NodeType::kPath ? pn->items[0]->op_text : pn->op_text);
    throw;
  }
}

Value Evaluator::Apply(const Value& proc, Args args, const Value& input, Frame* env) {
  Value result = ApplyInner(proc, args, input, env);
  // Trampoline: a lambda whose body ends in a call returns a thunk instead of recursing.
  while (result.IsFunction() && result.AsFunction().type == FunctionData::Type::kLambda &&
         result.AsFunction().node->thunk) {
    Value thunk = std::move(result);
    const FunctionData& t = thunk.AsFunction();
    const Node* call = t.node->body;
    Value next = Eval(call->procedure, t.input, t.env);
    Args next_args;
    next_args.reserve(call->items.size());
    for (const Node* a : call->items) next_args.push_back(Eval(a, t.input, t.env));
    try {
      result = ApplyInner(next, next_args, input, env);
    } catch (JError& e) {
      if (e.position < 0) e.position = call->position;
      if (!e.has_token) {
        const Node* pn = call->procedure;
        e.Token(pn->type == NodeType::kPath ? pn->items[0]->op_text : pn->op_text);
      }
      throw;
    }
  }
  return result;
}

Value Evaluator::ApplyHof(const Value& fn, const Value& v, size_t index, const Value& array, Frame* env) {
  int arity = fn.IsFunction() ? fn.AsFunction().Arity() : 1;
  Args args;
  args.push_back(v);
  if (arity >= 2) args.push_back(Value::Number(static_cast<double>(index)));
  if (arity >= 3) args.push_back(array);
  return Apply(fn, std::move(args), Value(), env);
}

Value Evaluator::ApplyInner(const Value& proc, Args& args, const Value& input, Frame* env) {
  const Node* call = pending_call_;
  pending_call_ = nullptr;
  if (!proc.IsFunction()) {
    JError e("T1006");
    throw e;
  }
  const FunctionData& f = proc.AsFunction();
  if (const Signature* sig = f.GetSignature()) sig->Validate(args, input);
  switch (f.type) {
    case FunctionData::Type::kLambda: {
      Frame* frame = NewFrame(f.env);
      const auto& params = f.node->params;
      for (size_t i = 0; i < params.size(); ++i) {
        frame->Bind(params[i], i < args.size() ? args[i] : Value());
      }
      return Eval(f.node->body, f.input, frame);
    }
    case FunctionData::Type::kBuiltin: {
      CallSite site{input, env, call};
      return f.builtin->fn(*this, args, site);
    }
    case FunctionData::Type::kPartial: {
      Args full;
      full.reserve(f.bound.size());
      size_t next = 0;
      for (size_t i = 0; i < f.bound.size(); ++i) {
        if (f.placeholder[i]) {
          full.push_back(next < args.size() ? args[next] : Value());
          ++next;
        } else {
          full.push_back(f.bound[i]);
        }
      }
      return Apply(f.target, std::move(full), input, env);
    }
    case FunctionData::Type::kRegex:
      return RegexCall(f.regex, args.empty() ? Value() : args[0], 0, f.node != nullptr ? f.node->position : -1);
    case FunctionData::Type::kRegexNext:
      if (f.offset >= f.input.AsString().size()) return Value();
      return RegexCall(f.regex, f.input, f.offset, -2);
    case FunctionData::Type::kTransform:
      return RunTransform(f, args.empty() ? Value() : args[0]);
    case FunctionData::Type::kNative:
      return f.native->call(*this, args);
    case FunctionData::Type::kChain: {
      Value mid = Apply(f.target, Args{args.empty() ? Value() : args[0]}, Value(), env);
      return Apply(f.second, Args{mid}, Value(), env);
    }
  }
  return Value();
}

// Runs a regex over `str` from byte `from`; returns the reference's match object
// {match, start, end, groups, next}. `position` -2 marks a `next()` call, where an empty match
// is an error (it would never progress).
Value Evaluator::RegexCall(const std::shared_ptr<const Regex>& re, const Value& str, size_t from, int position) {
  if (!str.IsString()) return Value();
  auto m = re->Find(str.AsString(), from);
  if (!m) return Value();
  if (position == -2 && m->start == m->end) {
    JError e("D1004");
    e.value = Value::String(re->source());
    throw e;
  }
  const std::string& s = str.AsString();
  Value obj = NewObject();
  ObjectData& o = obj.MutObject();
  o.Set("match", MakeString(s.substr(m->start, m->end - m->start)));
  o.Set("start", Value::Number(static_cast<double>(m->start)));
  o.Set("end", Value::Number(static_cast<double>(m->end)));
  Value groups = NewArray();
  for (auto& g : m->groups) {
    groups.MutArray().items.push_back(g ? MakeString(*g) : Value());
  }
  o.Set("groups", groups);
  auto* next = new FunctionData(FunctionData::Type::kRegexNext);
  next->regex = re;
  next->input = str;
  next->offset = m->end;
  o.Set("next", Value::Adopt(next));
  return obj;
}

Value Evaluator::EvalPartial(const Node* n, const Value& input, Frame* env) {
  auto* f = new FunctionData(FunctionData::Type::kPartial);
  Value holder = Value::Adopt(f);
  for (const Node* a : n->items) {
    if (a->type == NodeType::kPlaceholder) {
      f->bound.emplace_back();
      f->placeholder.push_back(true);
    } else {
      f->bound.push_back(Eval(a, input, env));
      f->placeholder.push_back(false);
    }
  }
  Value proc = Eval(n->procedure, input, env);
  const Node* pn = n->procedure;
  if (proc.IsUndefined() && pn->type == NodeType::kPath && pn->items[0]->type == NodeType::kName &&
      LookupVariable(pn->items[0]->op_text, env).IsDefined()) {
    JError e("T1007", n->position);
    e.Token(pn->items[0]->op_text);
    throw e;
  }
  if (!proc.IsFunction()) {
    JError e("T1008", n->position);
    e.Token(pn->type == NodeType::kPath ? pn->items[0]->op_text : pn->op_text);
    throw e;
  }
  f->target = proc;
  return holder;
}

Value Evaluator::EvalApply(const Node* n, const Value& input, Frame* env) {
  Value lhs = Eval(n->lhs, input, env);
  if (n->rhs->type == NodeType::kCall) return EvalCall(n->rhs, input, env, &lhs);
  Value func = Eval(n->rhs, input, env);
  if (!func.IsFunction()) {
    JError e("T2006", n->position);
    e.value = func;
    throw e;
  }
  if (lhs.IsFunction()) {
    auto* f = new FunctionData(FunctionData::Type::kChain);
    f->target = lhs;
    f->second = func;
    return Value::Adopt(f);
  }
  return Apply(func, Args{lhs}, Value(), env);
}

}  // namespace stratus::jsonata::internal
