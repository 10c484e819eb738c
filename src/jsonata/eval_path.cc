// Path navigation: steps over sequences, tuple streams (focus `@`, index `#`, parent `%`),
// predicates, sorting `^( )` and grouping `{ }`.
#include <algorithm>
#include <array>
#include <cmath>

#include "jsonata/evaluator.h"

namespace stratus::jsonata::internal {

namespace {

Value SequenceOf(const Value& v) {
  Value seq = NewSequence();
  seq.MutArray().items.push_back(v);
  return seq;
}

bool IsArrayOfNumbers(const Value& v) {
  if (!v.IsArray()) return false;
  for (const auto& i : v.AsArray().items) {
    if (!i.IsNumber()) return false;
  }
  return true;
}

}  // namespace

Frame* Evaluator::FrameFromTuple(Frame* env, const Tuple& t) {
  Frame* f = NewFrame(env);
  for (const auto& [k, v] : t.binds) f->Bind(k, v);
  return f;
}

Value Evaluator::EvalPath(const Node* expr, const Value& input, Frame* env) {
  // The current input of a step (`cur`): when `items` is false it is one value, not wrapped in
  // a sequence (most steps of typical paths select one value, and this saves an allocation per
  // step); when true, the step iterates over its items if it is an array (none otherwise).
  Value cur = input;
  bool items = input.IsArray() && expr->items[0]->type != NodeType::kVariable;
  auto as_value = [&]() -> const Value& {
    if (!items) {
      cur = SequenceOf(cur);
      items = true;
    }
    return cur;
  };
  Value result_seq;
  bool result_items = true;
  bool is_tuple = false;
  Value tuples;
  const size_t n = expr->items.size();
  for (size_t i = 0; i < n; ++i) {
    const Node* step = expr->items[i];
    if (step->tuple) is_tuple = true;
    if (i == 0 && step->consarray) {
      result_seq = Eval(step, as_value(), env);
      result_items = true;
    } else if (is_tuple) {
      tuples = EvalTupleStep(step, as_value(), tuples, env);
    } else if (step->type == NodeType::kSort) {
      result_seq = EvalSort(step, as_value(), env);
      if (!step->stages.empty()) result_seq = EvalStages(step->stages, result_seq, env);
      result_items = true;
    } else {
      const Value* data = nullptr;
      size_t count = 0;
      if (!items) {
        data = &cur;
        count = 1;
      } else if (cur.IsArray()) {
        data = cur.AsArray().items.data();
        count = cur.AsArray().items.size();
      }
      StepOutput out = step->plain_name ? EvalNameStep(step, data, count, i == n - 1)
                                        : EvalStep(step, data, count, env, i == n - 1);
      result_seq = std::move(out.value);
      result_items = out.items;
    }
    if (!is_tuple && (result_seq.IsUndefined() ||
                      (result_items && result_seq.IsArray() && result_seq.AsArray().items.empty()))) {
      break;
    }
    if (!step->has_focus) {
      cur = result_seq;
      items = result_items;
    }
  }
  if (is_tuple) {
    result_items = true;
    if (expr->tuple) {
      result_seq = tuples;
    } else {
      result_seq = NewSequence();
      if (tuples.IsTuples()) {
        auto& out = result_seq.MutArray().items;
        for (const auto& t : tuples.AsTuples().tuples) out.push_back(t.at);
      }
    }
  }
  // A single (non-array) result is returned bare: Eval would collapse its singleton sequence
  // anyway. Where the sequence matters (`[]` keeps it as an array), make it.
  if (!result_items && result_seq.IsDefined() && (expr->keep_singleton_array || expr->keep_array)) {
    result_seq = SequenceOf(result_seq);
  }
  if (expr->keep_singleton_array) {
    if (result_seq.IsArray() && result_seq.AsArray().cons && !result_seq.AsArray().sequence) {
      result_seq = SequenceOf(result_seq);
    }
    if (result_seq.IsArray()) result_seq.MutArray().keep_singleton = true;
  }
  if (expr->group != nullptr) {
    result_seq = EvalGroup(expr->group->pairs, expr->group->position, is_tuple ? tuples : result_seq, env);
  }
  return result_seq;
}

namespace {

// Collects step results. A single result is kept as it is (no sequence is allocated); from the
// second on they are merged into one sequence: arrays from the data are merged, arrays built by
// a constructor are kept whole.
class StepResults {
 public:
  void Add(Value&& r) {
    if (count_++ == 0) {
      first_ = std::move(r);
      return;
    }
    if (count_ == 2) {
      out_ = NewSequence();
      Push(std::move(first_));
    }
    Push(std::move(r));
  }
  // What the path continues with (see StepOutput). A lone array result of the last step is
  // returned as is; a lone array of an inner step is iterated in place rather than copied.
  StepOutput Finish(bool last) {
    if (count_ == 0) return {Value(), false};
    if (count_ >= 2) return {std::move(out_), true};
    if (!first_.IsArray()) return {std::move(first_), false};
    const ArrayData& a = first_.AsArray();
    if (last) {
      if (!a.sequence) return {std::move(first_), true};
      Value copy = NewSequence();
      copy.MutArray().items = a.items;
      return {std::move(copy), true};
    }
    if (a.cons) return {std::move(first_), false};  // one item: the constructed array
    if (a.items.empty()) return {Value(), false};
    return {std::move(first_), true};
  }

 private:
  void Push(Value&& r) {
    auto& items = out_.MutArray().items;
    if (!r.IsArray() || r.AsArray().cons) {
      items.push_back(std::move(r));
    } else {
      const auto& src = r.AsArray().items;
      CheckArraySize(items.size() + src.size());
      items.insert(items.end(), src.begin(), src.end());
    }
  }

  Value out_;
  Value first_;
  size_t count_ = 0;
};

}  // namespace

// Fast path for a step that is a plain field name (no predicates, no bindings).
StepOutput Evaluator::EvalNameStep(const Node* step, const Value* items, size_t n, bool last) {
  const std::string& key = step->op_text;
  StepResults results;
  for (size_t i = 0; i < n; ++i) {
    const Value& item = items[i];
    if (item.IsObject()) {
      if (const Value* v = item.AsObject().Find(key)) {
        if (v->IsDefined()) results.Add(Value(*v));
      }
    } else if (item.IsArray()) {
      // evaluate(name, array) = lookup over the array, normalized as a sequence
      Value seq = NewSequence();
      LookupInto(item, key, seq.MutArray().items);
      auto& s = seq.MutArray().items;
      if (s.size() == 1) {
        results.Add(Value(s[0]));
      } else if (!s.empty()) {
        results.Add(std::move(seq));
      }
    }
  }
  return results.Finish(last);
}

StepOutput Evaluator::EvalStep(const Node* step, const Value* items, size_t n, Frame* env, bool last) {
  StepResults results;
  for (size_t i = 0; i < n; ++i) {
    Value res = Eval(step, items[i], env);
    // a bare (unwrapped) single item is as good as its singleton sequence to the collector
    for (const Stage& st : step->stages) {
      if (res.IsUndefined()) break;  // nothing left to filter (as an empty sequence would be)
      res = EvalFilter(st.expr, res, env, /*bare_ok=*/true);
    }
    if (res.IsDefined()) results.Add(std::move(res));
  }
  return results.Finish(last);
}

Value Evaluator::EvalStages(const std::vector<Stage>& stages, Value input, Frame* env) {
  Value result = std::move(input);
  for (const Stage& st : stages) {
    if (st.type == Stage::kFilter) {
      result = EvalFilter(st.expr, result, env);
    } else if (result.IsTuples()) {
      auto& ts = result.MutTuples().tuples;
      for (size_t i = 0; i < ts.size(); ++i) ts[i].Bind(st.var, Value::Number(static_cast<double>(i)));
    }
  }
  return result;
}

Value Evaluator::EvalTupleStep(const Node* step, const Value& input, Value tuples, Frame* env) {
  if (step->type == NodeType::kSort) {
    Value result;
    if (tuples.IsTuples()) {
      result = EvalSort(step, tuples, env);
    } else {
      Value sorted = EvalSort(step, input, env);
      result = NewTuples();
      auto& out = result.MutTuples().tuples;
      if (sorted.IsArray()) {
        const auto& items = sorted.AsArray().items;
        for (size_t i = 0; i < items.size(); ++i) {
          Tuple t;
          t.at = items[i];
          if (step->has_index) t.Bind(step->index_var, Value::Number(static_cast<double>(i)));
          out.push_back(std::move(t));
        }
      }
    }
    if (!step->stages.empty()) result = EvalStages(step->stages, result, env);
    return result;
  }

  if (!tuples.IsTuples()) {
    tuples = NewTuples();
    auto& ts = tuples.MutTuples().tuples;
    if (input.IsArray()) {
      for (const auto& item : input.AsArray().items) {
        Tuple t;
        t.at = item;
        ts.push_back(std::move(t));
      }
    } else if (input.IsDefined()) {
      Tuple t;
      t.at = input;
      ts.push_back(std::move(t));
    }
  }
  Value result = NewTuples();
  auto& out = result.MutTuples().tuples;
  for (const Tuple& t : tuples.AsTuples().tuples) {
    Frame* step_env = FrameFromTuple(env, t);
    Value res = Eval(step, t.at, step_env);
    if (res.IsUndefined()) continue;
    if (res.IsTuples()) {
      for (const Tuple& r : res.AsTuples().tuples) {
        Tuple nt = t;
        nt.at = r.at;
        for (const auto& [k, v] : r.binds) nt.Bind(k, v);
        out.push_back(std::move(nt));
      }
      continue;
    }
    std::vector<Value> single;
    const std::vector<Value>* items = &single;
    if (res.IsArray()) {
      items = &res.AsArray().items;
    } else {
      single.push_back(res);
    }
    for (size_t b = 0; b < items->size(); ++b) {
      Tuple nt = t;
      if (step->has_focus) {
        nt.Bind(step->focus, (*items)[b]);
        nt.at = t.at;
      } else {
        nt.at = (*items)[b];
      }
      if (step->has_index) nt.Bind(step->index_var, Value::Number(static_cast<double>(b)));
      if (step->ancestor != nullptr) nt.Bind(step->ancestor->label, t.at);
      out.push_back(std::move(nt));
    }
  }
  if (!step->stages.empty()) result = EvalStages(step->stages, result, env);
  return result;
}

Value Evaluator::EvalFilter(const Node* pred, const Value& input, Frame* env, bool bare_ok) {
  if (input.IsTuples()) {
    const auto& ts = input.AsTuples().tuples;
    Value results = NewTuples();
    auto& out = results.MutTuples().tuples;
    if (pred->type == NodeType::kLiteral && pred->is_number_literal) {
      double idx = std::floor(pred->literal.AsNumber());
      if (idx < 0) idx += static_cast<double>(ts.size());
      if (idx >= 0 && idx < static_cast<double>(ts.size())) out.push_back(ts[static_cast<size_t>(idx)]);
      return results;
    }
    for (size_t i = 0; i < ts.size(); ++i) {
      Frame* f = FrameFromTuple(env, ts[i]);
      Value res = Eval(pred, ts[i].at, f);
      if (res.IsNumber()) {
        double k = std::floor(res.AsNumber());
        if (k < 0) k += static_cast<double>(ts.size());
        if (k == static_cast<double>(i)) out.push_back(ts[i]);
      } else if (IsArrayOfNumbers(res)) {
        for (const auto& x : res.AsArray().items) {
          double k = std::floor(x.AsNumber());
          if (k < 0) k += static_cast<double>(ts.size());
          if (k == static_cast<double>(i)) out.push_back(ts[i]);
        }
      } else if (Truthy(res)) {
        out.push_back(ts[i]);
      }
    }
    return results;
  }

  // the items filtered: an array's, or the input alone
  const Value* in = &input;
  size_t n = 1;
  if (input.IsArray()) {
    in = input.AsArray().items.data();
    n = input.AsArray().items.size();
  }
  const double len = static_cast<double>(n);
  if (pred->type == NodeType::kLiteral && pred->is_number_literal) {
    double idx = std::floor(pred->literal.AsNumber());
    if (idx < 0) idx += len;
    if (idx >= 0 && idx < len) {
      const Value& item = in[static_cast<size_t>(idx)];
      if (item.IsArray()) return item;
      if (item.IsDefined()) {
        if (bare_ok) return item;
        Value results = NewSequence();
        results.MutArray().items.push_back(item);
        return results;
      }
    }
    return bare_ok ? Value() : NewSequence();
  }
  Value results = NewSequence();
  auto& out = results.MutArray().items;
  for (size_t i = 0; i < n; ++i) {
    const Value& item = in[i];
    Value res = Eval(pred, item, env);
    if (res.IsNumber() && !std::isnan(res.AsNumber())) {
      double k = std::floor(res.AsNumber());
      if (k < 0) k += len;
      if (k == static_cast<double>(i)) out.push_back(item);
    } else if (IsArrayOfNumbers(res)) {
      for (const auto& x : res.AsArray().items) {
        double k = std::floor(x.AsNumber());
        if (k < 0) k += len;
        if (k == static_cast<double>(i)) out.push_back(item);
      }
    } else if (Truthy(res)) {
      out.push_back(item);
    }
  }
  return results;
}

Value Evaluator::EvalSort(const Node* sort, const Value& input, Frame* env) {
  const bool tuple_sort = input.IsTuples();
  size_t count = tuple_sort ? input.AsTuples().tuples.size() : (input.IsArray() ? input.AsArray().items.size() : 0);
  if (!tuple_sort && !input.IsArray()) return input;
  if (count <= 1) return input;
  const size_t nterms = sort->terms.size();
  // Sort keys are evaluated once per item (the reference evaluates them per comparison).
  std::vector<Value> keys(count * nterms);
  for (size_t i = 0; i < count; ++i) {
    const Value* ctx;
    Frame* f = env;
    if (tuple_sort) {
      const Tuple& t = input.AsTuples().tuples[i];
      ctx = &t.at;
      f = FrameFromTuple(env, t);
    } else {
      ctx = &input.AsArray().items[i];
    }
    for (size_t k = 0; k < nterms; ++k) keys[i * nterms + k] = Eval(sort->terms[k].expr, *ctx, f);
  }
  std::vector<size_t> order(count);
  for (size_t i = 0; i < count; ++i) order[i] = i;
  auto cmp = [&](size_t a, size_t b) -> bool {
    for (size_t k = 0; k < nterms; ++k) {
      const Value& x = keys[a * nterms + k];
      const Value& y = keys[b * nterms + k];
      int c = 0;
      if (x.IsUndefined()) {
        c = y.IsUndefined() ? 0 : 1;
        if (c == 0) continue;
        return c < 0;
      }
      if (y.IsUndefined()) return true;
      if (!(x.IsString() || x.IsNumber()) || !(y.IsString() || y.IsNumber())) {
        JError e("T2008", sort->position);
        e.value = !(x.IsString() || x.IsNumber()) ? x : y;
        throw e;
      }
      if (x.kind() != y.kind()) {
        JError e("T2007", sort->position);
        e.value = x;
        e.value2 = y;
        throw e;
      }
      if (x.IsNumber()) {
        c = x.AsNumber() < y.AsNumber() ? -1 : (x.AsNumber() > y.AsNumber() ? 1 : 0);
      } else {
        int r = x.AsString().compare(y.AsString());
        c = r < 0 ? -1 : (r > 0 ? 1 : 0);
      }
      if (c == 0) continue;
      if (sort->terms[k].descending) c = -c;
      return c < 0;
    }
    return false;
  };
  std::stable_sort(order.begin(), order.end(), cmp);
  if (tuple_sort) {
    Value out = NewTuples();
    auto& ts = out.MutTuples().tuples;
    for (size_t i : order) ts.push_back(input.AsTuples().tuples[i]);
    return out;
  }
  Value out = NewSequence();
  auto& items = out.MutArray().items;
  items.reserve(count);
  for (size_t i : order) items.push_back(input.AsArray().items[i]);
  return out;
}

// An object constructor over a single context item (the common case): no grouping needed.
// Keys are evaluated first, then values, as the reference does.
Value Evaluator::EvalObjectSingle(const std::vector<std::pair<Node*, Node*>>& pairs, int position,
                                  const Value& item, Frame* env) {
  constexpr size_t kInlineKeys = 16;
  std::array<Value, kInlineKeys> inline_keys;
  std::vector<Value> heap_keys;
  Value* keys = inline_keys.data();
  if (pairs.size() > kInlineKeys) {
    heap_keys.resize(pairs.size());
    keys = heap_keys.data();
  }
  for (size_t p = 0; p < pairs.size(); ++p) {
    Value key = Eval(pairs[p].first, item, env);
    if (key.IsUndefined()) continue;
    if (!key.IsString()) {
      JError e("T1003", position);
      e.value = key;
      throw e;
    }
    for (size_t q = 0; q < p; ++q) {
      if (keys[q].IsDefined() && keys[q].AsString() == key.AsString()) {
        JError e("D1009", position);
        e.value = key;
        throw e;
      }
    }
    keys[p] = std::move(key);
  }
  Value result = NewObject();
  ObjectData& obj = result.MutObject();
  obj.Reserve(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    if (keys[p].IsUndefined()) continue;
    Value v = Eval(pairs[p].second, item, env);
    if (v.IsDefined()) obj.Set(keys[p].AsString(), std::move(v));
  }
  return result;
}

Value Evaluator::EvalGroup(const std::vector<std::pair<Node*, Node*>>& pairs, int position, const Value& input,
                           Frame* env) {
  const bool reduce = input.IsTuples();
  if (!reduce && !input.IsArray()) return EvalObjectSingle(pairs, position, input, env);
  // A group's members are a list of links (one vector for all groups; an item may be in the
  // groups of several key expressions).
  struct GroupEntry {
    Value key;  // a string
    size_t expr_index;
    uint32_t first;  // into links
    uint32_t last;
  };
  struct Link {
    uint32_t item;
    uint32_t next;
  };
  constexpr uint32_t kEnd = UINT32_MAX;
  std::vector<Link> links;
  std::vector<GroupEntry> groups;
  constexpr size_t kInlineGroups = 8;
  groups.reserve(kInlineGroups);
  auto find_group = [&](const std::string& k) -> GroupEntry* {
    for (auto& g : groups) {
      if (g.key.AsString() == k) return &g;
    }
    return nullptr;
  };
  std::vector<Value> one;
  const std::vector<Value>* items = nullptr;
  size_t count;
  if (reduce) {
    count = input.AsTuples().tuples.size();
  } else {
    if (input.IsArray()) {
      items = &input.AsArray().items;
    } else {
      one.push_back(input);
      items = &one;
    }
    count = items->size();
  }
  Value undefined_item;
  if (count == 0) {
    if (!reduce) {
      one.clear();
      one.push_back(Value());
      items = &one;
    }
    count = 1;
  }
  const bool empty_tuples = reduce && input.AsTuples().tuples.empty();
  links.reserve(count);
  std::unordered_map<std::string, size_t> index;  // used once groups grow
  for (size_t i = 0; i < count; ++i) {
    Frame* f = env;
    const Value* ctx;
    if (reduce && !empty_tuples) {
      const Tuple& t = input.AsTuples().tuples[i];
      f = FrameFromTuple(env, t);
      ctx = &t.at;
    } else if (reduce) {
      ctx = &undefined_item;
    } else {
      ctx = &(*items)[i];
    }
    for (size_t p = 0; p < pairs.size(); ++p) {
      Value key = Eval(pairs[p].first, *ctx, f);
      if (key.IsUndefined()) continue;
      if (!key.IsString()) {
        JError e("T1003", position);
        e.value = key;
        throw e;
      }
      const std::string& k = key.AsString();
      GroupEntry* g = nullptr;
      if (groups.size() > 8) {
        auto it = index.find(k);
        if (it != index.end()) g = &groups[it->second];
      } else {
        g = find_group(k);
      }
      if (g != nullptr) {
        if (g->expr_index != p) {
          JError e("D1009", position);
          e.value = key;
          throw e;
        }
        links.push_back(Link{static_cast<uint32_t>(i), kEnd});
        links[g->last].next = static_cast<uint32_t>(links.size() - 1);
        g->last = static_cast<uint32_t>(links.size() - 1);
      } else {
        links.push_back(Link{static_cast<uint32_t>(i), kEnd});
        const auto l = static_cast<uint32_t>(links.size() - 1);
        groups.push_back(GroupEntry{key, p, l, l});
        if (groups.size() == 9) {
          for (size_t gi = 0; gi < groups.size(); ++gi) index.emplace(groups[gi].key.AsString(), gi);
        } else if (groups.size() > 9) {
          index.emplace(k, groups.size() - 1);
        }
      }
    }
  }
  Value result = NewObject();
  ObjectData& obj = result.MutObject();
  for (const GroupEntry& g : groups) {
    Value value;
    if (reduce) {
      if (empty_tuples) {
        value = Eval(pairs[g.expr_index].second, Value(), env);
      } else {
        // reduce the member tuples: every binding becomes the append of its values
        const auto& ts = input.AsTuples().tuples;
        Tuple merged = ts[links[g.first].item];
        for (uint32_t l = links[g.first].next; l != kEnd; l = links[l].next) {
          const Tuple& t = ts[links[l].item];
          merged.at = Append(merged.at, t.at);
          for (const auto& [k, v] : t.binds) {
            bool found = false;
            for (auto& b : merged.binds) {
              if (b.first == k) {
                b.second = Append(b.second, v);
                found = true;
                break;
              }
            }
            if (!found) merged.binds.emplace_back(k, v);
          }
        }
        Frame* f = FrameFromTuple(env, merged);
        value = Eval(pairs[g.expr_index].second, merged.at, f);
      }
    } else {
      Value ctx;
      const Value* only = nullptr;
      size_t defined = 0;
      for (uint32_t l = g.first; l != kEnd; l = links[l].next) {
        if ((*items)[links[l].item].IsDefined()) {
          only = &(*items)[links[l].item];
          ++defined;
        }
      }
      if (defined == 1) {
        ctx = *only;
      } else if (defined > 1) {
        // fn.append semantics: arrays are concatenated, other values appended
        ctx = NewArray();
        auto& out = ctx.MutArray().items;
        for (uint32_t l = g.first; l != kEnd; l = links[l].next) {
          const Value* v = &(*items)[links[l].item];
          if (v->IsUndefined()) continue;
          if (v->IsArray()) {
            out.insert(out.end(), v->AsArray().items.begin(), v->AsArray().items.end());
          } else {
            out.push_back(*v);
          }
        }
      }
      value = Eval(pairs[g.expr_index].second, ctx, env);
    }
    if (value.IsDefined()) obj.Set(g.key.AsString(), std::move(value));
  }
  return result;
}

}  // namespace stratus::jsonata::internal
