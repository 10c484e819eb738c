// Registry of built-ins, and the array, object, boolean and higher-order families.
#include "jsonata/functions.h"

#include <algorithm>
#include <random>
#include <unordered_map>

#include "core/random.h"

namespace stratus::jsonata::internal {

namespace {

Value Seq() { return NewSequence(); }

[[noreturn]] void ArgumentError(const Args& a, size_t i) {
  JError e("T0410");
  e.index = static_cast<int>(i) + 1;
  e.value = Arg(a, i);
  throw e;
}

Value FnBoolean(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  if (Arg(a, 0).IsNumber() && !std::isfinite(Arg(a, 0).AsNumber()) && !std::isnan(Arg(a, 0).AsNumber())) {
    ThrowError("D1001", Arg(a, 0));
  }
  return Value::Bool(Truthy(Arg(a, 0)));
}

Value FnNot(Evaluator&, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return Value::Bool(!Truthy(Arg(a, 0)));
}

Value FnExists(Evaluator&, Args& a, const CallSite&) { return Value::Bool(Arg(a, 0).IsDefined()); }

Value FnType(Evaluator&, Args& a, const CallSite&) {
  switch (Arg(a, 0).kind()) {
    case Kind::kUndefined: return Value();
    case Kind::kNull: return MakeString("null");
    case Kind::kNumber: return MakeString("number");
    case Kind::kString: return MakeString("string");
    case Kind::kBool: return MakeString("boolean");
    case Kind::kArray:
    case Kind::kTuples: return MakeString("array");
    case Kind::kFunction: return MakeString("function");
    case Kind::kObject: return MakeString("object");
  }
  return Value();
}

void KeysInto(const Value& v, std::vector<std::string>& keys) {
  CheckStack();
  if (v.IsArray()) {
    for (const auto& i : v.AsArray().items) KeysInto(i, keys);
  } else if (v.IsObject()) {
    for (const auto& [k, m] : v.AsObject().entries) {
      if (std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
    }
  }
}

Value FnKeys(Evaluator&, Args& a, const CallSite&) {
  std::vector<std::string> keys;
  KeysInto(Arg(a, 0), keys);
  Value out = Seq();
  for (auto& k : keys) out.MutArray().items.push_back(MakeString(std::move(k)));
  return out;
}

Value FnLookup(Evaluator&, Args& a, const CallSite&) {
  const Value& in = Arg(a, 0);
  const std::string& key = RequireString(a, 1);
  if (in.IsObject()) {
    const Value* v = in.AsObject().Find(key);
    return v != nullptr ? *v : Value();
  }
  if (in.IsArray()) {
    Value out = Seq();
    LookupInto(in, key, out.MutArray().items);
    return out;
  }
  return Value();
}

Value Spread(const Value& v) {
  CheckStack();
  if (v.IsArray()) {
    Value out = Seq();
    for (const auto& i : v.AsArray().items) {
      Value s = Spread(i);
      if (s.IsArray()) {
        for (const auto& x : s.AsArray().items) out.MutArray().items.push_back(x);
      } else if (s.IsDefined()) {
        out.MutArray().items.push_back(s);
      }
    }
    return out;
  }
  if (v.IsObject()) {
    Value out = Seq();
    for (const auto& [k, m] : v.AsObject().entries) {
      Value o = NewObject();
      o.MutObject().Set(k, m);
      out.MutArray().items.push_back(o);
    }
    return out;
  }
  return v;
}

Value FnSpread(Evaluator&, Args& a, const CallSite&) { return Spread(Arg(a, 0)); }

Value FnMerge(Evaluator&, Args& a, const CallSite&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  Value out = NewObject();
  for (const auto& o : arr.AsArray().items) {
    if (!o.IsObject()) continue;
    for (const auto& [k, v] : o.AsObject().entries) out.MutObject().Set(k, v);
  }
  return out;
}

Value FnEach(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& obj = Arg(a, 0);
  if (obj.IsUndefined()) return Value();
  Value out = Seq();
  for (const auto& [k, v] : obj.AsObject().entries) {
    int arity = RequireFunction(a, 1).AsFunction().Arity();
    Args args{v};
    if (arity >= 2) args.push_back(MakeString(k));
    if (arity >= 3) args.push_back(obj);
    Value r = ev.Apply(Arg(a, 1), std::move(args), Value(), site.env);
    if (r.IsDefined()) out.MutArray().items.push_back(r);
  }
  return out;
}

Value FnSift(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& obj = Arg(a, 0);
  if (obj.IsUndefined()) return Value();
  Value out = NewObject();
  for (const auto& [k, v] : obj.AsObject().entries) {
    int arity = RequireFunction(a, 1).AsFunction().Arity();
    Args args{v};
    if (arity >= 2) args.push_back(MakeString(k));
    if (arity >= 3) args.push_back(obj);
    if (Truthy(ev.Apply(Arg(a, 1), std::move(args), Value(), site.env))) out.MutObject().Set(k, v);
  }
  if (out.AsObject().entries.empty()) return Value();
  return out;
}

Value FnError(Evaluator&, Args& a, const CallSite&) {
  JError e("D3137");
  e.detail = Arg(a, 0).IsString() ? Arg(a, 0).AsString() : "$error() function evaluated";
  throw e;
}

Value FnAssert(Evaluator&, Args& a, const CallSite&) {
  if (!Arg(a, 0).IsBool() || !Arg(a, 0).AsBool()) {
    JError e("D3141");
    e.detail = Arg(a, 1).IsString() ? Arg(a, 1).AsString() : "$assert() statement failed";
    throw e;
  }
  return Value();
}

Value FnAppend(Evaluator&, Args& a, const CallSite&) { return Append(Arg(a, 0), Arg(a, 1)); }

Value FnReverse(Evaluator&, Args& a, const CallSite&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  if (arr.AsArray().items.size() <= 1) return arr;
  Value out = NewArray();
  out.MutArray().items.assign(arr.AsArray().items.rbegin(), arr.AsArray().items.rend());
  return out;
}

Value FnShuffle(Evaluator&, Args& a, const CallSite&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  if (arr.AsArray().items.size() <= 1) return arr;
  Value out = NewArray();
  out.MutArray().items = arr.AsArray().items;
  std::mt19937_64& rng = ThreadRng();
  std::shuffle(out.MutArray().items.begin(), out.MutArray().items.end(), rng);
  return out;
}

Value FnSort(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  const auto& items = arr.AsArray().items;
  if (items.size() <= 1) return arr;
  Value out = NewArray();
  auto& v = out.MutArray().items;
  v = items;
  if (Arg(a, 1).IsUndefined()) {
    bool nums = std::all_of(v.begin(), v.end(), [](const Value& x) { return x.IsNumber(); });
    bool strs = std::all_of(v.begin(), v.end(), [](const Value& x) { return x.IsString(); });
    if (!nums && !strs) ThrowError("D3070");
    if (nums) {
      std::stable_sort(v.begin(), v.end(), [](const Value& x, const Value& y) { return x.AsNumber() < y.AsNumber(); });
    } else {
      std::stable_sort(v.begin(), v.end(), [](const Value& x, const Value& y) { return x.AsString() < y.AsString(); });
    }
    return out;
  }
  const Value& fn = Arg(a, 1);
  // The reference merge sort takes the right item first when comparator(left, right) is true.
  std::vector<Value> buf(v.size());
  auto merge_sort = [&](auto&& self, size_t lo, size_t hi) -> void {
    if (hi - lo <= 1) return;
    size_t mid = lo + (hi - lo) / 2;
    self(self, lo, mid);
    self(self, mid, hi);
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
      if (Truthy(ev.Apply(fn, Args{v[i], v[j]}, Value(), site.env))) {
        buf[k++] = v[j++];
      } else {
        buf[k++] = v[i++];
      }
    }
    while (i < mid) buf[k++] = v[i++];
    while (j < hi) buf[k++] = v[j++];
    for (size_t x = lo; x < hi; ++x) v[x] = buf[x];
  };
  merge_sort(merge_sort, 0, v.size());
  return out;
}

Value FnDistinct(Evaluator&, Args& a, const CallSite&) {
  const Value& arr = Arg(a, 0);
  if (!arr.IsArray() || arr.AsArray().items.size() <= 1) return arr;
  Value out = arr.AsArray().sequence ? Seq() : NewArray();
  auto& res = out.MutArray().items;
  for (const auto& v : arr.AsArray().items) {
    bool found = false;
    for (const auto& r : res) {
      if (DeepEqual(v, r)) {
        found = true;
        break;
      }
    }
    if (!found) res.push_back(v);
  }
  return out;
}

Value FnZip(Evaluator&, Args& a, const CallSite&) {
  size_t len = a.empty() ? 0 : SIZE_MAX;
  for (const auto& x : a) len = std::min(len, x.IsArray() ? x.AsArray().items.size() : 0);
  Value out = NewArray();
  for (size_t i = 0; i < len; ++i) {
    Value t = NewArray();
    for (const auto& x : a) t.MutArray().items.push_back(x.AsArray().items[i]);
    out.MutArray().items.push_back(t);
  }
  return out;
}

Value FnMap(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  Value out = Seq();
  const auto& items = arr.AsArray().items;
  for (size_t i = 0; i < items.size(); ++i) {
    Value r = ev.ApplyHof(Arg(a, 1), items[i], i, arr, site.env);
    if (r.IsDefined()) out.MutArray().items.push_back(std::move(r));
  }
  return out;
}

Value FnFilter(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  Value out = Seq();
  const auto& items = arr.AsArray().items;
  for (size_t i = 0; i < items.size(); ++i) {
    if (Truthy(ev.ApplyHof(Arg(a, 1), items[i], i, arr, site.env))) out.MutArray().items.push_back(items[i]);
  }
  return out;
}

Value FnSingle(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  const auto& items = arr.AsArray().items;
  bool found = false;
  Value result;
  for (size_t i = 0; i < items.size(); ++i) {
    bool ok = true;
    if (Arg(a, 1).IsDefined()) ok = Truthy(ev.ApplyHof(Arg(a, 1), items[i], i, arr, site.env));
    if (ok) {
      if (found) ThrowError("D3138");
      result = items[i];
      found = true;
    }
  }
  if (!found) ThrowError("D3139");
  return result;
}

Value FnReduce(Evaluator& ev, Args& a, const CallSite& site) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  const Value& fn = RequireFunction(a, 1);
  int arity = fn.AsFunction().Arity();
  if (arity < 2) ThrowError("D3050");
  const auto& items = arr.AsArray().items;
  size_t index;
  Value result;
  if (Arg(a, 2).IsUndefined() && !items.empty()) {
    result = items[0];
    index = 1;
  } else {
    result = Arg(a, 2);
    index = 0;
  }
  for (; index < items.size(); ++index) {
    Args args{result, items[index]};
    if (arity >= 3) args.push_back(Value::Number(static_cast<double>(index)));
    if (arity >= 4) args.push_back(arr);
    result = ev.Apply(fn, std::move(args), Value(), site.env);
  }
  return result;
}

Value FnEval(Evaluator& ev, Args& a, const CallSite& site) {
  if (Arg(a, 0).IsUndefined()) return Value();
  Value input = site.input;
  if (Arg(a, 1).IsDefined()) {
    input = Arg(a, 1);
    if (input.IsArray() && !input.AsArray().sequence) {
      Value w = NewSequence();
      w.MutArray().items.push_back(input);
      w.MutArray().outer_wrapper = true;
      input = w;
    }
  }
  const Program* p;
  try {
    p = ev.CompileForEval(Arg(a, 0).AsString());
  } catch (const JError& inner) {
    JError e("D3120");
    e.detail = ErrorMessage(inner);
    throw e;
  }
  try {
    return ev.Eval(p->root, input, site.env);
  } catch (const JError& inner) {
    if (inner.code == kCodeLimit) throw;
    JError e("D3121");
    e.detail = ErrorMessage(inner);
    throw e;
  }
}

Value FnClone(Evaluator& ev, Args& a, const CallSite&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return ev.DeepClone(Arg(a, 0), nullptr);
}

std::vector<Builtin> BuildTable() {
  std::vector<Builtin> t = {
      {"boolean", "<x-:b>", FnBoolean, 1, nullptr},
      {"not", "<x-:b>", FnNot, 1, nullptr},
      {"exists", "<x:b>", FnExists, 1, nullptr},
      {"type", "<x:s>", FnType, 1, nullptr},
      {"keys", "<x-:a<s>>", FnKeys, 1, nullptr},
      {"lookup", "<x-s:x>", FnLookup, 2, nullptr},
      {"spread", "<x-:a<o>>", FnSpread, 1, nullptr},
      {"merge", "<a<o>:o>", FnMerge, 1, nullptr},
      {"each", "<o-f:a>", FnEach, 2, nullptr},
      {"sift", "<o-f?:o>", FnSift, 2, nullptr},
      {"error", "<s?:x>", FnError, 1, nullptr},
      {"assert", "<bs?:x>", FnAssert, 2, nullptr},
      {"append", "<xx:a>", FnAppend, 2, nullptr},
      {"reverse", "<a:a>", FnReverse, 1, nullptr},
      {"shuffle", "<a:a>", FnShuffle, 1, nullptr},
      {"sort", "<af?:a>", FnSort, 2, nullptr},
      {"distinct", "<x:x>", FnDistinct, 1, nullptr},
      {"zip", "<a+>", FnZip, 0, nullptr},
      {"map", "<af>", FnMap, 2, nullptr},
      {"filter", "<af>", FnFilter, 2, nullptr},
      {"single", "<af?>", FnSingle, 2, nullptr},
      {"reduce", "<afj?:j>", FnReduce, 3, nullptr},
      {"eval", "<sx?:x>", FnEval, 2, nullptr},
      {"clone", "<(oa)-:o>", FnClone, 1, nullptr},
  };
  AddStringFunctions(t);
  AddNumericFunctions(t);
  AddFormatFunctions(t);
  AddDateTimeFunctions(t);
  for (auto& b : t) b.signature = ParseSignature(b.signature_text);
  return t;
}

}  // namespace

void AddArrayFunctions(std::vector<Builtin>&) {}

const std::string& RequireString(const Args& a, size_t i) {
  if (!Arg(a, i).IsString()) ArgumentError(a, i);
  return Arg(a, i).AsString();
}

const Value& RequireFunction(const Args& a, size_t i) {
  if (!Arg(a, i).IsFunction()) ThrowError("T1006");
  return Arg(a, i);
}

namespace {
struct Registry {
  std::vector<Builtin> table = BuildTable();
  // name -> (definition, its function value shared by every evaluation)
  std::unordered_map<std::string_view, std::pair<const Builtin*, Value>> index;
  Registry() {
    for (const auto& b : table) {
      auto* f = new FunctionData(FunctionData::Type::kBuiltin);
      f->builtin = &b;
      index.emplace(b.name, std::make_pair(&b, Value::Adopt(f)));
    }
  }
};
const Registry& GetRegistry() {
  static const Registry* kRegistry = new Registry();  // never destroyed: used during exit
  return *kRegistry;
}
}  // namespace

const Builtin* FindBuiltin(std::string_view name) {
  const auto& idx = GetRegistry().index;
  auto it = idx.find(name);
  return it == idx.end() ? nullptr : it->second.first;
}

const Value* FindBuiltinValue(std::string_view name) {
  const auto& idx = GetRegistry().index;
  auto it = idx.find(name);
  return it == idx.end() ? nullptr : &it->second.second;
}

}  // namespace stratus::jsonata::internal
