// The transform operator `| pattern | update, delete |` and deep copies ($clone).
#include <algorithm>

#include "jsonata/evaluator.h"

namespace stratus::jsonata::internal {

Value Evaluator::DeepClone(const Value& v, std::vector<const HeapBase*>* made) {
  CheckStack();
  if (v.IsArray()) {
    Value out = NewArray();
    ArrayData& a = out.MutArray();
    a.sequence = v.AsArray().sequence;
    a.items.reserve(v.AsArray().items.size());
    for (const auto& i : v.AsArray().items) a.items.push_back(DeepClone(i, made));
    if (made != nullptr) made->push_back(out.Heap());
    return out;
  }
  if (v.IsObject()) {
    Value out = NewObject();
    ObjectData& o = out.MutObject();
    o.Reserve(v.AsObject().entries.size());
    for (const auto& [k, m] : v.AsObject().entries) o.AppendNew(k, DeepClone(m, made));  // keys unique
    if (made != nullptr) made->push_back(out.Heap());
    return out;
  }
  return v;
}

namespace {
// Rebuilds any part of `v` that contains a node of the transform's copy, so that an update
// can never make the copy contain itself (a reference cycle).
Value Detach(Evaluator& ev, const Value& v, const std::vector<const HeapBase*>& made, int depth) {
  if (depth > 10000) ThrowError(kCodeLimit);
  CheckStack();
  if (!v.IsArray() && !v.IsObject()) return v;
  bool own = std::find(made.begin(), made.end(), v.Heap()) != made.end();
  if (v.IsArray()) {
    Value out = NewArray();
    ArrayData& a = out.MutArray();
    a.sequence = v.AsArray().sequence;
    bool changed = own;
    for (const auto& i : v.AsArray().items) {
      a.items.push_back(Detach(ev, i, made, depth + 1));
      if (!a.items.back().SameHeap(i)) changed = true;
    }
    return changed ? out : v;
  }
  Value out = NewObject();
  ObjectData& o = out.MutObject();
  bool changed = own;
  for (const auto& [k, m] : v.AsObject().entries) {
    Value d = Detach(ev, m, made, depth + 1);
    if (!d.SameHeap(m)) changed = true;
    o.Set(k, std::move(d));
  }
  return changed ? out : v;
}
}  // namespace

Value Evaluator::RunTransform(const FunctionData& fn, const Value& obj) {
  if (obj.IsUndefined()) return Value();
  const Node* n = fn.node;
  std::vector<const HeapBase*> made;
  Value result = DeepClone(obj, &made);
  std::sort(made.begin(), made.end());
  Value matches = Eval(n->pattern, result, fn.env);
  if (matches.IsUndefined()) return result;
  std::vector<Value> list;
  if (matches.IsArray()) {
    list = matches.AsArray().items;
  } else {
    list.push_back(matches);
  }
  auto owned = [&](const Value& v) { return std::binary_search(made.begin(), made.end(), v.Heap()); };
  for (const Value& match : list) {
    Value update = Eval(n->update, match, fn.env);
    if (update.IsDefined()) {
      if (!update.IsObject()) {
        JError e("T2011", n->update->position);
        e.value = update;
        throw e;
      }
      // Only nodes of the copy are ever modified: shared input data stays immutable.
      if (match.IsObject() && owned(match)) {
        for (const auto& [k, v] : update.AsObject().entries) {
          Value d = Detach(*this, v, made, 0);
          match.MutObject().Set(k, std::move(d));
        }
      }
    }
    if (n->del != nullptr) {
      Value dels = Eval(n->del, match, fn.env);
      if (dels.IsDefined()) {
        std::vector<Value> keys;
        if (dels.IsArray()) {
          keys = dels.AsArray().items;
        } else {
          keys.push_back(dels);
        }
        for (const auto& k : keys) {
          if (!k.IsString()) {
            JError e("T2012", n->del->position);
            e.value = dels;
            throw e;
          }
        }
        if (match.IsObject() && owned(match)) {
          for (const auto& k : keys) match.MutObject().Erase(k.AsString());
        }
      }
    }
  }
  return result;
}

}  // namespace stratus::jsonata::internal
