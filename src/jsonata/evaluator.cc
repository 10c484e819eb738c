// Core of the evaluator: expression dispatch, operators, variables, limits. Function calls and
// application are in eval_call.cc; paths, predicates, sorting and grouping in eval_path.cc.
#include "jsonata/evaluator.h"

#include <pthread.h>

#include <algorithm>
#include <cmath>

namespace stratus::jsonata::internal {

namespace {

// Default nesting limit of evaluate() calls when the caller sets none. Each level costs a few
// hundred bytes of native stack; the stack check below is the real guard, this one keeps the
// error deterministic.
constexpr int kDefaultMaxDepth = 5000;
// Frames arena chunk sizes: the first chunk is small (most evaluations need a few frames), later
// ones double up to the cap.
constexpr size_t kFirstFrameChunk = 8;
constexpr size_t kMaxFrameChunk = 256;
// Native stack kept in reserve below the deepest evaluation (for built-ins, RE2, libc).
constexpr size_t kStackReserve = 256 * 1024;

// Reading the thread's stack bounds is slow (glibc parses /proc/self/maps for the main
// thread), so it is done once per thread.
const char* ComputeStackLimit() {
  pthread_attr_t attr;
  void* addr = nullptr;
  size_t size = 0;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getstack(&attr, &addr, &size);
    pthread_attr_destroy(&attr);
  }
  char here;
  if (addr == nullptr || size == 0) return &here - 512 * 1024;  // unknown: assume 512 KiB
  const char* low = static_cast<const char*>(addr);
  if (&here - low < static_cast<std::ptrdiff_t>(2 * kStackReserve)) return low;
  return low + kStackReserve;
}

const char* StackLimit() {
  thread_local const char* limit = ComputeStackLimit();
  return limit;
}

struct DepthGuard {
  explicit DepthGuard(int& d) : depth(d) { ++depth; }
  ~DepthGuard() { --depth; }
  int& depth;
};


// The reference's isNumeric: a number that is not NaN; infinities are an error (D1001).
bool IsNumeric(const Value& v) {
  if (!v.IsNumber()) return false;
  double d = v.AsNumber();
  if (std::isnan(d)) return false;
  if (!std::isfinite(d)) ThrowError("D1001", v);
  return true;
}

}  // namespace

// fn.lookup over an array: member values of every object, arrays flattened one level.
void LookupInto(const Value& item, const std::string& key, std::vector<Value>& out) {
  CheckStack();
  if (item.IsArray()) {
    for (const auto& i : item.AsArray().items) LookupInto(i, key, out);
  } else if (item.IsObject()) {
    const Value* v = item.AsObject().Find(key);
    if (v == nullptr) return;
    if (v->IsArray()) {
      for (const auto& x : v->AsArray().items) out.push_back(x);
    } else {
      out.push_back(*v);
    }
  }
}


[[noreturn]] void ThrowError(const char* code, Value value) {
  JError e(code);
  e.value = std::move(value);
  throw e;
}

Value MakeString(std::string s) { return Value::String(std::move(s)); }

void CheckStringSize(size_t bytes) {
  if (bytes > kMaxStringBytes) {
    JError e(kCodeSizeLimit);
    e.detail = "string longer than " + std::to_string(kMaxStringBytes) + " bytes";
    throw e;
  }
}

namespace {
thread_local Evaluator* current_evaluator = nullptr;
// Items copied per evaluation step when charging bulk work to the tick counter.
constexpr size_t kItemsPerTick = 64;
}  // namespace

void ChargeWork(size_t n) {
  if (current_evaluator != nullptr && n >= kItemsPerTick) current_evaluator->AddTicks(n / kItemsPerTick);
}

void CheckArraySize(size_t items) {
  ChargeWork(items);
  if (items > kMaxArrayItems) {
    JError e(kCodeSizeLimit);
    e.detail = "array longer than " + std::to_string(kMaxArrayItems) + " items";
    throw e;
  }
}

int FunctionData::Arity() const {
  switch (type) {
    case Type::kLambda:
      return static_cast<int>(node->params.size());
    case Type::kBuiltin:
      return builtin->arity;
    case Type::kPartial: {
      int n = 0;
      for (bool p : placeholder) n += p ? 1 : 0;
      return n;
    }
    case Type::kNative:
      return native->arity;
    case Type::kRegex:
    case Type::kTransform:
    case Type::kChain:
      return 1;
    case Type::kRegexNext:
      return 0;
  }
  return 0;
}

const Signature* FunctionData::GetSignature() const {
  switch (type) {
    case Type::kLambda:
      return node->signature.get();
    case Type::kBuiltin:
      return builtin->signature.get();
    case Type::kNative:
      return native->signature.get();
    case Type::kTransform: {
      static const std::shared_ptr<const Signature> kTransformSig = ParseSignature("<(oa):o>");
      return kTransformSig.get();
    }
    default:
      return nullptr;
  }
}

bool Truthy(const Value& v) {
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNull:
      return false;
    case Kind::kBool:
      return v.AsBool();
    case Kind::kNumber:
      return v.AsNumber() != 0 && !std::isnan(v.AsNumber());
    case Kind::kString:
      return !v.AsString().empty();
    case Kind::kArray: {
      const auto& items = v.AsArray().items;
      if (items.size() == 1) return Truthy(items[0]);
      for (const auto& i : items) {
        if (Truthy(i)) return true;
      }
      return false;
    }
    case Kind::kObject:
      return !v.AsObject().entries.empty();
    case Kind::kFunction:
      return false;
    case Kind::kTuples:
      return !v.AsTuples().tuples.empty();
  }
  return false;
}

Value Append(const Value& a, const Value& b) {
  if (a.IsUndefined()) return b;
  if (b.IsUndefined()) return a;
  CheckArraySize((a.IsArray() ? a.AsArray().items.size() : 1) + (b.IsArray() ? b.AsArray().items.size() : 1));
  Value out = NewArray();
  auto& items = out.MutArray().items;
  if (a.IsArray()) {
    items = a.AsArray().items;
  } else {
    items.push_back(a);
  }
  if (b.IsArray()) {
    const auto& bi = b.AsArray().items;
    items.insert(items.end(), bi.begin(), bi.end());
  } else {
    items.push_back(b);
  }
  return out;
}

Evaluator::Evaluator(const ExternalScope* external, const EvalLimits& limits)
    : external_(external), limits_(limits) {
  if (limits_.max_depth <= 0) limits_.max_depth = kDefaultMaxDepth;
  // The time limit's clock starts at the first check (after kTicksPerClockCheck steps): short
  // evaluations, the common case, never read the clock.
  has_deadline_ = limits_.time_limit.count() > 0;
  stack_limit_ = StackLimit();
}

Evaluator::~Evaluator() {
  // Frames hold values that may hold closures over frames: clear values first so that no
  // destructor touches a frame that is already gone.
  for (size_t c = 0; c < frame_chunks_.size(); ++c) {
    const size_t used = c + 1 == frame_chunks_.size() ? frame_chunk_used_ : frame_chunks_[c].size;
    for (size_t i = 0; i < used; ++i) frame_chunks_[c].frames[i].Clear();
  }
  root_frame_storage_.Clear();
}

Frame* Evaluator::NewFrame(Frame* parent) {
  if (frame_chunks_.empty() || frame_chunk_used_ == frame_chunks_.back().size) {
    const size_t size =
        frame_chunks_.empty() ? kFirstFrameChunk : std::min(frame_chunks_.back().size * 2, kMaxFrameChunk);
    frame_chunks_.push_back(FrameChunk{std::make_unique<Frame[]>(size), size});
    frame_chunk_used_ = 0;
  }
  Frame* f = &frame_chunks_.back().frames[frame_chunk_used_++];
  f->parent = parent;
  return f;
}

int64_t Evaluator::NowMillis() {
  // $now/$millis return the same instant throughout one evaluation, as the reference.
  if (now_millis_ == 0) {
    now_millis_ = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::system_clock::now().time_since_epoch())
                      .count();
  }
  return now_millis_;
}

void Evaluator::CheckLimits() {
  if (!has_deadline_) return;
  auto now = std::chrono::steady_clock::now();
  if (!deadline_started_) {
    deadline_started_ = true;
    deadline_ = now + limits_.time_limit;
    return;
  }
  if (now > deadline_) {
    JError e(kCodeLimit);
    e.detail = "Expression evaluation timeout: Check for infinite loop";
    throw e;
  }
}

const Program* Evaluator::CompileForEval(const std::string& text) {
  eval_programs_.push_back(ParseProgram(text));
  return eval_programs_.back().get();
}

Value Evaluator::Run(const Program& program, const Value& input) {
  struct CurrentScope {
    Evaluator* saved;
    explicit CurrentScope(Evaluator* e) : saved(current_evaluator) { current_evaluator = e; }
    ~CurrentScope() { current_evaluator = saved; }
  } scope(this);
  root_frame_ = &root_frame_storage_;
  root_frame_->Bind("$", input);
  Value in = input;
  if (input.IsArray() && !input.AsArray().sequence) {
    Value wrapper = NewSequence();
    wrapper.MutArray().items.push_back(input);
    wrapper.MutArray().outer_wrapper = true;
    in = wrapper;
  }
  root_input_ = in;
  return Eval(program.root, in, root_frame_);
}

Value Evaluator::LookupVariable(std::string_view name, Frame* env) const {
  return LookupVariable(name, env, FindBuiltinValue(name));
}

Value Evaluator::LookupVariable(std::string_view name, Frame* env, const Value* builtin) const {
  const Value* v = FindVariable(name, env, builtin);
  return v != nullptr ? *v : Value();
}

const Value* Evaluator::FindVariable(std::string_view name, Frame* env, const Value* builtin) const {
  if (const Value* v = env->Find(name)) return v;
  if (external_ != nullptr && !external_->vars.empty()) {
    const auto& vars = external_->vars;
    constexpr size_t kLinearLookup = 4;  // below this, comparing names beats hashing one
    if (vars.size() <= kLinearLookup) {
      for (const auto& [k, v] : vars) {
        if (k == name) return &v;
      }
    } else {
      auto it = vars.find(name);
      if (it != vars.end()) return &it->second;
    }
  }
  return builtin;
}

bool Evaluator::EvalVariableFields(const Node* path, Frame* env, Value& result) const {
  const Node* first = path->items[0];
  const Value* cur = FindVariable(first->op_text, env, first->builtin);
  const size_t n = path->items.size();
  for (size_t i = 1; i < n && cur != nullptr; ++i) {
    if (cur->IsArray()) return false;
    cur = cur->IsObject() ? cur->AsObject().Find(path->items[i]->op_text) : nullptr;
  }
  // the general loop keeps a lone array result as is, and so does this
  result = cur != nullptr ? *cur : Value();
  return true;
}

Value Evaluator::Eval(const Node* n, const Value& input, Frame* env) {
  DepthGuard guard(depth_);
  char probe;
  if (depth_ > limits_.max_depth || &probe < stack_limit_) {
    JError e(kCodeLimit, n->position);
    e.detail =
        "Stack overflow error: Check for non-terminating recursive function.  Consider rewriting as "
        "tail-recursive.";
    throw e;
  }
  if (++ticks_ % kClockCheckInterval == 0) CheckLimits();

  Value result;
  switch (n->type) {
    case NodeType::kPath:
      if (!n->variable_fields || !EvalVariableFields(n, env, result)) result = EvalPath(n, input, env);
      break;
    case NodeType::kBinary:
      result = EvalBinary(n, input, env);
      break;
    case NodeType::kNegate: {
      Value v = Eval(n->expression, input, env);
      if (v.IsUndefined()) break;
      if (!IsNumeric(v)) {
        JError e("D1002", n->position);
        e.Token("-");
        e.value = v;
        throw e;
      }
      result = Value::Number(-v.AsNumber());
      break;
    }
    case NodeType::kArrayCons:
      result = EvalArray(n, input, env);
      break;
    case NodeType::kObjectCons:
      result = EvalGroup(n->pairs, n->position, input, env);
      break;
    case NodeType::kName: {
      const std::string& key = n->op_text;
      if (input.IsObject()) {
        const Value* v = input.AsObject().Find(key);
        if (v != nullptr) result = *v;
      } else if (input.IsArray()) {
        Value seq = NewSequence();
        for (const auto& item : input.AsArray().items) LookupInto(item, key, seq.MutArray().items);
        result = seq;
      }
      break;
    }
    case NodeType::kLiteral:
      result = n->literal;
      break;
    case NodeType::kWildcard: {
      Value seq = NewSequence();
      const Value* in = &input;
      if (input.IsArray() && input.AsArray().outer_wrapper && !input.AsArray().items.empty()) {
        in = &input.AsArray().items[0];
      }
      auto flatten = [&](auto&& self, const Value& v, std::vector<Value>& out) -> void {
        CheckStack();
        if (v.IsArray()) {
          for (const auto& i : v.AsArray().items) self(self, i, out);
        } else {
          out.push_back(v);
        }
      };
      if (in->IsObject()) {
        auto& out = seq.MutArray().items;
        for (const auto& [k, v] : in->AsObject().entries) {
          if (v.IsArray()) {
            flatten(flatten, v, out);
          } else {
            out.push_back(v);
          }
        }
      } else if (in->IsArray()) {
        auto& out = seq.MutArray().items;
        for (const auto& v : in->AsArray().items) {
          if (v.IsArray()) {
            flatten(flatten, v, out);
          } else {
            out.push_back(v);
          }
        }
      }
      result = seq;
      break;
    }
    case NodeType::kDescendant: {
      if (input.IsUndefined()) break;
      Value seq = NewSequence();
      auto& out = seq.MutArray().items;
      auto recurse = [&](auto&& self, const Value& v) -> void {
        CheckStack();
        if (!v.IsArray()) out.push_back(v);
        if (v.IsArray()) {
          for (const auto& i : v.AsArray().items) self(self, i);
        } else if (v.IsObject()) {
          for (const auto& [k, m] : v.AsObject().entries) self(self, m);
        }
      };
      recurse(recurse, input);
      if (out.size() == 1) {
        result = out[0];
      } else {
        result = seq;
      }
      break;
    }
    case NodeType::kParent: {
      if (const Value* v = env->Find(n->slot->label)) result = *v;
      break;
    }
    case NodeType::kCondition: {
      Value c = Eval(n->condition, input, env);
      if (Truthy(c)) {
        result = Eval(n->then, input, env);
      } else if (n->otherwise != nullptr) {
        result = Eval(n->otherwise, input, env);
      }
      break;
    }
    case NodeType::kBlock: {
      Frame* frame = NewFrame(env);
      for (const Node* e : n->items) result = Eval(e, input, frame);
      break;
    }
    case NodeType::kBind: {
      result = Eval(n->rhs, input, env);
      env->Bind(n->lhs->op_text, result);
      break;
    }
    case NodeType::kRegex: {
      auto* f = new FunctionData(FunctionData::Type::kRegex);
      f->regex = n->regex;
      f->node = n;
      result = Value::Adopt(f);
      break;
    }
    case NodeType::kCall:
      result = EvalCall(n, input, env, nullptr);
      break;
    case NodeType::kPartial:
      result = EvalPartial(n, input, env);
      break;
    case NodeType::kVariable:
      if (n->op_text.empty()) {
        if (input.IsArray() && input.AsArray().outer_wrapper && !input.AsArray().items.empty()) {
          result = input.AsArray().items[0];
        } else {
          result = input;
        }
      } else {
        result = LookupVariable(n->op_text, env, n->builtin);
      }
      break;
    case NodeType::kLambda: {
      auto* f = new FunctionData(FunctionData::Type::kLambda);
      f->node = n;
      f->input = input;
      f->env = env;
      result = Value::Adopt(f);
      break;
    }
    case NodeType::kApply:
      result = EvalApply(n, input, env);
      break;
    case NodeType::kTransform: {
      auto* f = new FunctionData(FunctionData::Type::kTransform);
      f->node = n;
      f->env = env;
      result = Value::Adopt(f);
      break;
    }
    default:
      break;
  }

  for (const Stage& p : n->predicate) result = EvalFilter(p.expr, result, env);
  if (n->type != NodeType::kPath && n->group != nullptr) {
    result = EvalGroup(n->group->pairs, n->group->position, result, env);
  }
  if (result.IsArray() && result.AsArray().sequence) {
    ArrayData& a = result.MutArray();
    if (n->keep_array) a.keep_singleton = true;
    if (a.items.empty()) return Value();
    if (a.items.size() == 1 && !a.keep_singleton) return Value(a.items[0]);
  }
  return result;
}

Value Evaluator::EvalArray(const Node* n, const Value& input, Frame* env) {
  Value result = NewArray();
  auto& items = result.MutArray().items;
  for (const Node* item : n->items) {
    Value v = Eval(item, input, env);
    if (v.IsUndefined()) continue;
    if (item->type == NodeType::kArrayCons) {
      items.push_back(std::move(v));
    } else if (v.IsArray()) {
      const auto& src = v.AsArray().items;
      CheckArraySize(items.size() + src.size());
      items.insert(items.end(), src.begin(), src.end());
    } else if (v.IsTuples()) {
      for (const auto& t : v.AsTuples().tuples) items.push_back(t.at);
    } else {
      items.push_back(std::move(v));
    }
  }
  if (n->consarray) result.MutArray().cons = true;
  return result;
}

Value Evaluator::EvalBinary(const Node* n, const Value& input, Frame* env) {
  Value lhs = Eval(n->lhs, input, env);
  BinOp op = n->op;
  if (op == BinOp::kAnd) {
    return Value::Bool(Truthy(lhs) && Truthy(Eval(n->rhs, input, env)));
  }
  if (op == BinOp::kOr) {
    return Value::Bool(Truthy(lhs) || Truthy(Eval(n->rhs, input, env)));
  }
  Value rhs = Eval(n->rhs, input, env);
  auto fail = [&](const char* code, const Value& v) {
    JError e(code, n->position);
    static const char* kOpText[] = {"+", "-", "*", "/", "%", "=", "!=", "<", "<=", ">", ">=", "&", "..", "in", "and", "or"};
    e.Token(kOpText[static_cast<int>(op)]);
    e.value = v;
    throw e;
  };
  try {
    switch (op) {
      case BinOp::kAdd:
      case BinOp::kSub:
      case BinOp::kMul:
      case BinOp::kDiv:
      case BinOp::kMod: {
        if (lhs.IsDefined() && !IsNumeric(lhs)) fail("T2001", lhs);
        if (rhs.IsDefined() && !IsNumeric(rhs)) fail("T2002", rhs);
        if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
        double a = lhs.AsNumber(), b = rhs.AsNumber();
        switch (op) {
          case BinOp::kAdd: return Value::Number(a + b);
          case BinOp::kSub: return Value::Number(a - b);
          case BinOp::kMul: return Value::Number(a * b);
          case BinOp::kDiv: return Value::Number(a / b);
          default: return Value::Number(std::fmod(a, b));
        }
      }
      case BinOp::kEq:
      case BinOp::kNe: {
        if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
        bool eq = DeepEqual(lhs, rhs);
        return Value::Bool(op == BinOp::kEq ? eq : !eq);
      }
      case BinOp::kLt:
      case BinOp::kLe:
      case BinOp::kGt:
      case BinOp::kGe: {
        bool lc = lhs.IsUndefined() || lhs.IsString() || lhs.IsNumber();
        bool rc = rhs.IsUndefined() || rhs.IsString() || rhs.IsNumber();
        if (!lc || !rc) fail("T2010", !(lhs.IsString() || lhs.IsNumber()) ? lhs : rhs);
        if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
        if (lhs.kind() != rhs.kind()) {
          JError e("T2009", n->position);
          e.value = lhs;
          e.value2 = rhs;
          throw e;
        }
        int c;
        if (lhs.IsNumber()) {
          double a = lhs.AsNumber(), b = rhs.AsNumber();
          bool r = op == BinOp::kLt ? a < b : op == BinOp::kLe ? a <= b : op == BinOp::kGt ? a > b : a >= b;
          return Value::Bool(r);
        }
        c = lhs.AsString().compare(rhs.AsString());
        bool r = op == BinOp::kLt ? c < 0 : op == BinOp::kLe ? c <= 0 : op == BinOp::kGt ? c > 0 : c >= 0;
        return Value::Bool(r);
      }
      case BinOp::kConcat: {
        std::string s = lhs.IsDefined() ? ToJsString(lhs) : std::string();
        if (rhs.IsDefined()) {
          std::string r = ToJsString(rhs);
          CheckStringSize(s.size() + r.size());
          s += r;
        }
        return MakeString(std::move(s));
      }
      case BinOp::kRange: {
        auto is_int = [](const Value& v) { return v.IsNumber() && std::floor(v.AsNumber()) == v.AsNumber() && std::isfinite(v.AsNumber()); };
        if (lhs.IsDefined() && !is_int(lhs)) fail("T2003", lhs);
        if (rhs.IsDefined() && !is_int(rhs)) fail("T2004", rhs);
        if (lhs.IsUndefined() || rhs.IsUndefined()) return Value();
        double a = lhs.AsNumber(), b = rhs.AsNumber();
        if (a > b) return Value();
        double size = b - a + 1;
        if (size > static_cast<double>(limits_.max_range)) fail("D2014", Value::Number(size));
        ChargeWork(static_cast<size_t>(size));
        Value seq = NewSequence();
        auto& items = seq.MutArray().items;
        items.reserve(static_cast<size_t>(size));
        for (double x = a; x <= b; x += 1) items.push_back(Value::Number(x));
        return seq;
      }
      case BinOp::kIn: {
        if (lhs.IsUndefined() || rhs.IsUndefined()) return Value::Bool(false);
        auto same = [&](const Value& x) {
          if (x.kind() != lhs.kind()) return false;
          if (x.IsArray() || x.IsObject() || x.IsFunction()) return x.SameHeap(lhs);
          return DeepEqual(x, lhs);
        };
        if (rhs.IsArray()) {
          for (const auto& x : rhs.AsArray().items) {
            if (same(x)) return Value::Bool(true);
          }
          return Value::Bool(false);
        }
        return Value::Bool(same(rhs));
      }
      default:
        return Value();
    }
  } catch (JError& e) {
    if (e.position < 0) e.position = n->position;
    throw;
  }
}

}  // namespace stratus::jsonata::internal
