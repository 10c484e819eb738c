#pragma once
// Internal value representation of the JSONata evaluator (not part of the public API).
//
// Why not evaluate on stratus::Json directly: JSONata navigation copies values around a lot
// (every path step builds a sequence of the values it selected, variables alias parts of the
// input, grouping appends items). A nlohmann value copy is a deep copy, so evaluation on Json
// would be O(size of the data) per step. A Value here is 16 bytes: numbers, booleans, null and
// undefined inline, strings/arrays/objects/functions as an intrusively reference-counted,
// immutable-once-shared heap block. Copying a Value is one atomic increment. The public API
// converts Json to Value once (or once per Input, which can be reused) and the result back.
//
// Thread-safety: a Value that may be seen by more than one thread (the literals of a compiled
// expression, a prepared Input, bound variables) is never mutated; mutation happens only on
// blocks created by the current evaluation (see the "Unique"/"Mut" accessors' comments).
#include <atomic>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/json.h"

namespace stratus::jsonata::internal {

enum class Kind : uint8_t {
  kUndefined,
  kNull,
  kBool,
  kNumber,
  kString,
  kArray,
  kObject,
  kFunction,
  kTuples,  // a tuple stream (internal only, never visible to users)
};

struct HeapBase {
  explicit HeapBase(Kind k) : kind(k) {}
  mutable std::atomic<int32_t> refs{1};
  Kind kind;
  HeapBase* pending_next = nullptr;  // DestroyHeap's queue link (thread-exit safe, no allocation)
  virtual ~HeapBase() = default;
};

class Value;
struct StringData;
// Frees a heap block whose count reached zero. Iterative: freeing a deeply nested value never
// recurses on the native stack (blocks released while freeing are queued).
void DestroyHeap(HeapBase* h);

// Native stack protection for recursive helpers (conversion, equality, printing): throws the
// limit error when the current thread's stack is nearly exhausted.
void CheckStack();
struct ArrayData;
struct ObjectData;
struct FunctionData;
struct TupleData;

class Value {
 public:
  Value() { u_.ptr = nullptr; }
  ~Value() { Release(); }
  Value(const Value& o) : kind_(o.kind_), u_(o.u_) { Retain(); }
  Value(Value&& o) noexcept : kind_(o.kind_), u_(o.u_) {
    o.kind_ = Kind::kUndefined;
    o.u_.ptr = nullptr;
  }
  // `o` may live inside the block this value releases (x = x.items[0]): read it first.
  Value& operator=(const Value& o) {
    if (this != &o) {
      const Kind k = o.kind_;
      const U u = o.u_;
      o.Retain();
      Release();
      kind_ = k;
      u_ = u;
    }
    return *this;
  }
  Value& operator=(Value&& o) noexcept {
    if (this != &o) {
      const Kind k = o.kind_;
      const U u = o.u_;
      o.kind_ = Kind::kUndefined;
      o.u_.ptr = nullptr;
      Release();
      kind_ = k;
      u_ = u;
    }
    return *this;
  }

  static Value Null() {
    Value v;
    v.kind_ = Kind::kNull;
    return v;
  }
  static Value Bool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.u_.b = b;
    return v;
  }
  static Value Number(double d) {
    Value v;
    v.kind_ = Kind::kNumber;
    v.u_.num = d;
    return v;
  }
  static Value String(std::string s);
  // Takes ownership of a freshly created heap block (refs == 1).
  static Value Adopt(HeapBase* h) {
    Value v;
    v.kind_ = h->kind;
    v.u_.ptr = h;
    return v;
  }

  Kind kind() const { return kind_; }
  bool IsUndefined() const { return kind_ == Kind::kUndefined; }
  bool IsDefined() const { return kind_ != Kind::kUndefined; }
  bool IsNull() const { return kind_ == Kind::kNull; }
  bool IsBool() const { return kind_ == Kind::kBool; }
  bool IsNumber() const { return kind_ == Kind::kNumber; }
  bool IsString() const { return kind_ == Kind::kString; }
  bool IsArray() const { return kind_ == Kind::kArray; }
  bool IsObject() const { return kind_ == Kind::kObject; }
  bool IsFunction() const { return kind_ == Kind::kFunction; }
  bool IsTuples() const { return kind_ == Kind::kTuples; }

  bool AsBool() const { return u_.b; }
  double AsNumber() const { return u_.num; }
  const std::string& AsString() const;
  const ArrayData& AsArray() const { return *reinterpret_cast<const ArrayData*>(Heap()); }
  const ObjectData& AsObject() const { return *reinterpret_cast<const ObjectData*>(Heap()); }
  const FunctionData& AsFunction() const {
    return *reinterpret_cast<const FunctionData*>(Heap());
  }
  const TupleData& AsTuples() const { return *reinterpret_cast<const TupleData*>(Heap()); }

  // Mutable access; only legal on blocks created by the current evaluation and not yet
  // shared with another thread (see the header comment).
  ArrayData& MutArray() const { return *reinterpret_cast<ArrayData*>(const_cast<HeapBase*>(Heap())); }
  ObjectData& MutObject() const {
    return *reinterpret_cast<ObjectData*>(const_cast<HeapBase*>(Heap()));
  }
  TupleData& MutTuples() const { return *reinterpret_cast<TupleData*>(const_cast<HeapBase*>(Heap())); }
  bool IsUnique() const { return u_.ptr != nullptr && u_.ptr->refs.load(std::memory_order_acquire) == 1; }

  const HeapBase* Heap() const { return u_.ptr; }
  bool SameHeap(const Value& o) const { return kind_ >= Kind::kString && u_.ptr == o.u_.ptr; }

 private:
  bool IsHeap() const { return kind_ >= Kind::kString; }
  void Retain() const {
    if (IsHeap()) u_.ptr->refs.fetch_add(1, std::memory_order_relaxed);
  }
  void Release() {
    if (IsHeap() && u_.ptr->refs.fetch_sub(1, std::memory_order_acq_rel) == 1) DestroyHeap(u_.ptr);
  }

  Kind kind_ = Kind::kUndefined;
  union U {
    double num;
    bool b;
    HeapBase* ptr;
  } u_;
};

StringData* TakeCachedString();  // value.cc: a cached empty string block, or nullptr

struct StringData : HeapBase {
  explicit StringData(std::string s) : HeapBase(Kind::kString), str(std::move(s)) {}
  std::string str;
};

inline Value Value::String(std::string s) {
  StringData* d = TakeCachedString();
  if (d == nullptr) return Adopt(new StringData(std::move(s)));
  d->str = std::move(s);
  return Adopt(d);
}
inline const std::string& Value::AsString() const {
  return static_cast<const StringData*>(Heap())->str;
}

// An array. JSONata distinguishes plain arrays (from the data or an array constructor) from
// sequences (results of navigation, which collapse to a single value when they hold one item).
struct ArrayData : HeapBase {
  ArrayData() : HeapBase(Kind::kArray) {}
  std::vector<Value> items;
  bool sequence = false;        // a result sequence (collapses to a singleton)
  bool keep_singleton = false;  // `[]` in a path: keep a singleton as an array
  bool outer_wrapper = false;   // the wrapper around a top-level input array
  bool cons = false;            // built by an array constructor: never flattened
};

// An object with members in insertion order and a hash index once it is large enough to pay.
struct ObjectData : HeapBase {
  ObjectData() : HeapBase(Kind::kObject) {}
  std::vector<std::pair<std::string, Value>> entries;

  const Value* Find(std::string_view key) const;
  // Inserts or replaces; construction/transform only (see Value's thread-safety note).
  void Set(std::string_view key, Value v);
  // Appends a key the object does not have (copying another object's members) without the
  // search Set makes; same restrictions as Set.
  void AppendNew(std::string_view key, Value v);
  void Erase(std::string_view key);
  void Reserve(size_t n) { entries.reserve(n); }
  // Empties the object, keeping its storage (block cache only).
  void Clear() {
    entries.clear();
    slots_.clear();
  }

 private:
  static constexpr size_t kIndexThreshold = 12;  // linear search is faster below this
  void Rebuild();
  std::vector<uint32_t> slots_;  // open addressing: entry index + 1, 0 = empty
};

// A tuple's named bindings: a few inline (tuples are copied per step, and most carry one to
// three bindings), more on the heap. Contiguous, like a vector.
class BindList {
 public:
  using Entry = std::pair<std::string_view, Value>;
  static constexpr uint32_t kInline = 3;

  BindList() = default;
  BindList(const BindList& o) { Append(o); }
  BindList& operator=(const BindList& o) {
    if (this != &o) {
      clear();
      Append(o);
    }
    return *this;
  }
  BindList(BindList&& o) noexcept { TakeFrom(o); }
  BindList& operator=(BindList&& o) noexcept {
    if (this != &o) {
      clear();
      TakeFrom(o);
    }
    return *this;
  }

  Entry* begin() { return size_ <= kInline ? inline_ : heap_.data(); }
  Entry* end() { return begin() + size_; }
  const Entry* begin() const { return size_ <= kInline ? inline_ : heap_.data(); }
  const Entry* end() const { return begin() + size_; }
  size_t size() const { return size_; }

  void emplace_back(std::string_view name, Value v) {
    if (size_ < kInline) {
      inline_[size_] = Entry(name, std::move(v));
    } else {
      if (size_ == kInline) {
        heap_.reserve(2 * kInline);
        for (auto& e : inline_) heap_.push_back(std::move(e));
      }
      heap_.emplace_back(name, std::move(v));
    }
    ++size_;
  }
  void clear() {
    for (auto& e : inline_) e.second = Value();
    heap_.clear();
    size_ = 0;
  }

 private:
  void Append(const BindList& o) {
    for (const auto& e : o) emplace_back(e.first, e.second);
  }
  void TakeFrom(BindList& o) {
    if (o.size_ <= kInline) {
      for (uint32_t i = 0; i < o.size_; ++i) inline_[i] = std::move(o.inline_[i]);
    } else {
      heap_ = std::move(o.heap_);
    }
    size_ = o.size_;
    o.size_ = 0;
    o.heap_.clear();
  }

  Entry inline_[kInline];
  uint32_t size_ = 0;
  std::vector<Entry> heap_;  // all entries once there are more than kInline
};

// A tuple binds the context item '@' plus named variables (focus `@$x`, index `#$i`, parent
// labels). Names point into the AST (which outlives the evaluation).
struct Tuple {
  Value at;
  BindList binds;
  void Bind(std::string_view name, Value v) {
    for (auto& b : binds) {
      if (b.first == name) {
        b.second = std::move(v);
        return;
      }
    }
    binds.emplace_back(name, std::move(v));
  }
};

struct TupleData : HeapBase {
  TupleData() : HeapBase(Kind::kTuples) {}
  std::vector<Tuple> tuples;
};

// Constructors for fresh blocks. Arrays, objects and string blocks come from a small per-thread
// cache of freed blocks that keeps their vectors' capacity (evaluations create and drop many
// short-lived sequences; see DestroyHeap), else from the heap.
ArrayData* TakeCachedArray();    // nullptr when the cache is empty
ObjectData* TakeCachedObject();  // nullptr when the cache is empty
inline Value NewArray(bool sequence = false) {
  ArrayData* a = TakeCachedArray();
  if (a == nullptr) a = new ArrayData();
  a->sequence = sequence;
  return Value::Adopt(a);
}
inline Value NewSequence() { return NewArray(true); }
inline Value NewObject() {
  ObjectData* o = TakeCachedObject();
  return Value::Adopt(o != nullptr ? o : new ObjectData());
}
inline Value NewTuples() { return Value::Adopt(new TupleData()); }

// JSON conversion at the API boundary. Functions and undefined members are dropped, as
// JSON.stringify does; sequences become arrays.
Value FromJson(const Json& j);
Json ToJson(const Value& v);

// JSONata deep equality (used by `=`, `!=`, $distinct ...).
bool DeepEqual(const Value& a, const Value& b);

// A JSONata sequence-aware helpers.
bool IsSequence(const Value& v);

}  // namespace stratus::jsonata::internal
