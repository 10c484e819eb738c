#pragma once
// The tree-walking evaluator. One Evaluator lives for one evaluation (it holds the limits, the
// clock reading, the frames arena) and is used by one thread; the Program it walks is shared
// and read-only.
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "jsonata/ast.h"
#include "jsonata/errors.h"
#include "jsonata/regex.h"
#include "jsonata/signature.h"
#include "jsonata/value.h"

namespace stratus::jsonata::internal {

class Evaluator;

// A variable scope. Frames live in the evaluation's arena (closures may capture them and form
// cycles with the values they hold; the arena frees them all when the evaluation ends).
struct Frame {
  using Binding = std::pair<std::string_view, Value>;
  static constexpr uint32_t kInline = 4;  // most scopes bind a handful of names

  Frame* parent = nullptr;
  Binding inline_vars[kInline];
  uint32_t inline_count = 0;
  std::vector<Binding> more;

  void Bind(std::string_view name, Value v) {
    if (Value* existing = FindLocal(name)) {
      *existing = std::move(v);
      return;
    }
    if (inline_count < kInline) {
      inline_vars[inline_count].first = name;
      inline_vars[inline_count].second = std::move(v);
      ++inline_count;
    } else {
      more.emplace_back(name, std::move(v));
    }
  }
  Value* FindLocal(std::string_view name) {
    for (uint32_t i = 0; i < inline_count; ++i) {
      if (inline_vars[i].first == name) return &inline_vars[i].second;
    }
    for (auto& e : more) {
      if (e.first == name) return &e.second;
    }
    return nullptr;
  }
  const Value* Find(std::string_view name) const {
    for (const Frame* f = this; f != nullptr; f = f->parent) {
      if (const Value* v = const_cast<Frame*>(f)->FindLocal(name)) return v;
    }
    return nullptr;
  }
  void Clear() {
    for (uint32_t i = 0; i < inline_count; ++i) inline_vars[i].second = Value();
    more.clear();
  }
};

using Args = std::vector<Value>;

// The call context a built-in sees: the context value (focus) and the caller's scope.
struct CallSite {
  const Value& input;
  Frame* env;
  const Node* call = nullptr;  // the call expression, when the function was called by one
};

using BuiltinFn = Value (*)(Evaluator& ev, Args& args, const CallSite& site);

struct Builtin {
  const char* name;
  const char* signature_text;
  BuiltinFn fn;
  int arity;  // the number of parameters the reference's implementation declares
  std::shared_ptr<const Signature> signature;
};

// Looks up a built-in by name (without `$`); nullptr if none.
const Builtin* FindBuiltin(std::string_view name);
// The shared, immutable function value of a built-in; nullptr if none.
const Value* FindBuiltinValue(std::string_view name);

// A native function supplied by the embedder (Bindings::SetFunction).
struct NativeDef {
  std::string name;
  std::shared_ptr<const Signature> signature;
  int arity = 0;
  std::function<Value(Evaluator&, const Args&)> call;
};

struct FunctionData : HeapBase {
  enum class Type : uint8_t { kLambda, kBuiltin, kPartial, kRegex, kRegexNext, kTransform, kNative, kChain };
  explicit FunctionData(Type t) : HeapBase(Kind::kFunction), type(t) {}
  Type type;
  // kLambda / kTransform
  const Node* node = nullptr;
  Value input;
  Frame* env = nullptr;
  // kBuiltin
  const Builtin* builtin = nullptr;
  // kPartial (target + bound args; `placeholder[i]` marks a `?`), kChain (target then second)
  Value target;
  Value second;
  std::vector<Value> bound;
  std::vector<bool> placeholder;
  // kRegex / kRegexNext
  std::shared_ptr<const Regex> regex;
  size_t offset = 0;  // kRegexNext: where the next search starts (bytes)
  // kNative
  const NativeDef* native = nullptr;

  int Arity() const;
  const Signature* GetSignature() const;
};

// Variables supplied from outside the expression (bindings), converted once.
struct ExternalScope {
  // Transparent hashing: looked up by the expression's string_view names without a copy.
  struct NameHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  std::unordered_map<std::string, Value, NameHash, std::equal_to<>> vars;
  std::vector<std::unique_ptr<NativeDef>> natives;
};

// What a path step produced: `value` is one item when `items` is false (undefined = none), or
// when true a value whose items (if it is an array) are the results.
struct StepOutput {
  Value value;
  bool items = false;
};

struct EvalLimits {
  int max_depth = 0;                          // nested evaluation depth; 0 = default
  std::chrono::milliseconds time_limit{0};    // 0 = none
  size_t max_range = 10000000;                // the reference's 1e7 limit on `..`
};

class Evaluator {
 public:
  Evaluator(const ExternalScope* external, const EvalLimits& limits);
  ~Evaluator();

  // Evaluates a compiled program against an input value.
  Value Run(const Program& program, const Value& input);

  Value Eval(const Node* n, const Value& input, Frame* env);
  // Calls a function value (lambda, built-in, partial, ...) with the given arguments.
  Value Apply(const Value& proc, Args args, const Value& input, Frame* env);
  // Calls a function with (value, index, array) trimmed to its arity, as the HOFs do.
  Value ApplyHof(const Value& fn, const Value& v, size_t index, const Value& array, Frame* env);

  Frame* NewFrame(Frame* parent);
  void CheckLimits();  // throws U1001 when over time
  void AddTicks(size_t n) {
    uint32_t before = ticks_;
    ticks_ += static_cast<uint32_t>(std::min<size_t>(n, 1u << 30));
    if (ticks_ / kClockCheckInterval != before / kClockCheckInterval) CheckLimits();
  }
  static constexpr uint32_t kClockCheckInterval = 1024;
  // Compiles text for $eval; the program lives as long as this evaluation.
  const Program* CompileForEval(const std::string& text);

  int64_t NowMillis();
  const Value& root_input() const { return root_input_; }
  Frame* root_frame() const { return root_frame_; }
  const EvalLimits& limits() const { return limits_; }

  // The result of a transform must not share nodes with shared data (see EvalTransform).
  Value DeepClone(const Value& v, std::vector<const HeapBase*>* made);

 private:
  friend struct PathEval;
  Value EvalPath(const Node* expr, const Value& input, Frame* env);
  StepOutput EvalStep(const Node* step, const Value* items, size_t n, Frame* env, bool last);
  StepOutput EvalNameStep(const Node* step, const Value* items, size_t n, bool last);
  Value EvalTupleStep(const Node* step, const Value& input, Value tuples, Frame* env);
  Value EvalStages(const std::vector<Stage>& stages, Value input, Frame* env);
  // Applies a predicate. With `bare_ok`, a single selected item may be returned as itself
  // rather than as a singleton sequence (and nothing as undefined).
  Value EvalFilter(const Node* pred, const Value& input, Frame* env, bool bare_ok = false);
  Value EvalSort(const Node* sort, const Value& input, Frame* env);
  Value EvalGroup(const std::vector<std::pair<Node*, Node*>>& pairs, int position, const Value& input,
                  Frame* env);
  Value EvalObjectSingle(const std::vector<std::pair<Node*, Node*>>& pairs, int position, const Value& item,
                         Frame* env);
  Value EvalBinary(const Node* n, const Value& input, Frame* env);
  Value EvalArray(const Node* n, const Value& input, Frame* env);
  Value EvalCall(const Node* n, const Value& input, Frame* env, const Value* applied);
  Value EvalPartial(const Node* n, const Value& input, Frame* env);
  Value EvalApply(const Node* n, const Value& input, Frame* env);
  Value EvalTransform(const Node* n, const Value& input, Frame* env);
  Value ApplyInner(const Value& proc, Args& args, const Value& input, Frame* env);
  Value RunTransform(const FunctionData& fn, const Value& obj);
  Value RegexCall(const std::shared_ptr<const Regex>& re, const Value& str, size_t from, int position);
  Frame* FrameFromTuple(Frame* env, const Tuple& t);
  Value LookupVariable(std::string_view name, Frame* env) const;
  // As LookupVariable, for a name whose built-in (if any) was resolved at compile time.
  Value LookupVariable(std::string_view name, Frame* env, const Value* builtin) const;
  // Where the variable's value lives (a frame, the bindings or the built-ins; valid for the
  // whole evaluation), or nullptr when it is unbound.
  const Value* FindVariable(std::string_view name, Frame* env, const Value* builtin) const;
  // `$var.a.b` over objects: follows the fields without building sequences or touching
  // reference counts; false when the path meets an array (the general loop then runs).
  bool EvalVariableFields(const Node* path, Frame* env, Value& result) const;

  const ExternalScope* external_;
  // The call expression whose function Apply is about to run (read and cleared by ApplyInner).
  const Node* pending_call_ = nullptr;
  EvalLimits limits_;
  int depth_ = 0;
  uint32_t ticks_ = 0;
  std::chrono::steady_clock::time_point deadline_;
  bool has_deadline_ = false;
  bool deadline_started_ = false;
  Frame root_frame_storage_;
  const char* stack_limit_ = nullptr;
  int64_t now_millis_ = 0;
  Value root_input_;
  Frame* root_frame_ = nullptr;
  // The frames arena: chunks of growing size, created on first use (most evaluations of simple
  // expressions need no frame beyond the root). Frames live until the evaluation ends.
  struct FrameChunk {
    std::unique_ptr<Frame[]> frames;
    size_t size;
  };
  std::vector<FrameChunk> frame_chunks_;
  size_t frame_chunk_used_ = 0;  // frames handed out from the last chunk
  std::vector<std::unique_ptr<Program>> eval_programs_;
};

// Size limits that keep a hostile expression from exhausting memory (error D2015).
inline constexpr size_t kMaxStringBytes = size_t{1} << 28;  // 256 MiB
inline constexpr size_t kMaxArrayItems = 10000000;          // 1e7 (the range limit)
void CheckStringSize(size_t bytes);
void CheckArraySize(size_t items);
// Accounts for bulk work (copying n items) toward the time limit of the current evaluation, so
// that a few huge operations cannot outrun it.
void ChargeWork(size_t n);

// Helpers shared by the built-in families.
bool Truthy(const Value& v);                    // $boolean
std::string ToJsString(const Value& v, bool pretty = false);  // $string (throws D3001 for ±Inf/NaN)
std::string NumberToString(double d);           // JavaScript Number#toString
Value Append(const Value& a, const Value& b);   // fn.append
Value MakeString(std::string s);
// fn.lookup over an array: member values of every object, arrays flattened one level.
void LookupInto(const Value& item, const std::string& key, std::vector<Value>& out);
[[noreturn]] void ThrowError(const char* code, Value value = Value());

}  // namespace stratus::jsonata::internal
