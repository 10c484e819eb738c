#include "jsonata/value.h"

#include <pthread.h>

#include <cmath>
#include <functional>

#include "jsonata/errors.h"

namespace stratus::jsonata::internal {

namespace {

// Per-thread caches of freed blocks (see NewArray). Bounded in count and in the storage a block
// may keep, so a cache holds at most a few hundred KiB. The caches are trivially destructible
// thread-locals (values may die during thread exit, after any destructor ran); CacheOwner frees
// what they hold when the thread ends and closes them.
constexpr uint32_t kMaxCachedBlocks = 256;    // per kind and thread
constexpr size_t kMaxCachedItems = 256;       // array items / object entries kept in a block
constexpr size_t kMaxCachedStringBytes = 256;  // string capacity kept in a block

struct BlockCache {
  HeapBase* head = nullptr;  // linked through pending_next
  uint32_t count = 0;
};
thread_local BlockCache array_cache;
thread_local BlockCache object_cache;
thread_local BlockCache string_cache;
thread_local bool caches_open = false;
thread_local bool caches_closed = false;

void Drain(BlockCache& c) {
  while (c.head != nullptr) {
    HeapBase* h = c.head;
    c.head = h->pending_next;
    delete h;
  }
  c.count = 0;
}

struct CacheOwner {
  CacheOwner() { caches_open = true; }
  ~CacheOwner() {
    caches_closed = true;
    caches_open = false;
    Drain(array_cache);
    Drain(object_cache);
    Drain(string_cache);
  }
};

bool CachesUsable() {
  if (caches_open) return true;
  if (caches_closed) return false;
  thread_local CacheOwner owner;  // constructed on this thread's first use, destroyed at its exit
  return caches_open;
}

HeapBase* Take(BlockCache& c) {
  HeapBase* h = c.head;
  if (h == nullptr) return nullptr;
  c.head = h->pending_next;
  --c.count;
  h->pending_next = nullptr;
  h->refs.store(1, std::memory_order_relaxed);
  return h;
}

bool Put(BlockCache& c, HeapBase* h) {
  if (c.count >= kMaxCachedBlocks || !CachesUsable()) return false;
  h->pending_next = c.head;
  c.head = h;
  ++c.count;
  return true;
}

// Frees a block, or empties it into its kind's cache. Emptying releases the block's members,
// which DestroyHeap queues (it is active while this runs).
void Recycle(HeapBase* h) {
  switch (h->kind) {
    case Kind::kArray: {
      auto* a = static_cast<ArrayData*>(h);
      if (a->items.capacity() <= kMaxCachedItems && array_cache.count < kMaxCachedBlocks) {
        a->items.clear();
        a->sequence = a->keep_singleton = a->outer_wrapper = a->cons = false;
        if (Put(array_cache, h)) return;
      }
      break;
    }
    case Kind::kObject: {
      auto* o = static_cast<ObjectData*>(h);
      if (o->entries.capacity() <= kMaxCachedItems && object_cache.count < kMaxCachedBlocks) {
        o->Clear();
        if (Put(object_cache, h)) return;
      }
      break;
    }
    case Kind::kString: {
      auto* s = static_cast<StringData*>(h);
      if (s->str.capacity() <= kMaxCachedStringBytes && string_cache.count < kMaxCachedBlocks) {
        s->str.clear();
        if (Put(string_cache, h)) return;
      }
      break;
    }
    default:
      break;
  }
  delete h;
}

}  // namespace

ArrayData* TakeCachedArray() { return static_cast<ArrayData*>(Take(array_cache)); }
ObjectData* TakeCachedObject() { return static_cast<ObjectData*>(Take(object_cache)); }
StringData* TakeCachedString() { return static_cast<StringData*>(Take(string_cache)); }

void DestroyHeap(HeapBase* h) {
  // Trivially destructible thread-locals: values may die during thread or process exit.
  thread_local bool active = false;
  thread_local HeapBase* pending = nullptr;
  if (active) {
    h->pending_next = pending;
    pending = h;
    return;
  }
  active = true;
  Recycle(h);
  while (pending != nullptr) {
    HeapBase* p = pending;
    pending = p->pending_next;
    Recycle(p);
  }
  active = false;
}

namespace {
// Native stack kept free below the deepest recursion of a helper.
constexpr size_t kHelperStackReserve = 128 * 1024;

const char* ThreadStackLimit() {
  thread_local const char* limit = []() -> const char* {
    pthread_attr_t attr;
    void* addr = nullptr;
    size_t size = 0;
    if (pthread_getattr_np(pthread_self(), &attr) == 0) {
      pthread_attr_getstack(&attr, &addr, &size);
      pthread_attr_destroy(&attr);
    }
    char here;
    if (addr == nullptr || size == 0) return &here - 256 * 1024;
    return static_cast<const char*>(addr) + kHelperStackReserve;
  }();
  return limit;
}
}  // namespace

void CheckStack() {
  char probe;
  if (&probe < ThreadStackLimit()) {
    JError e(kCodeLimit);
    e.detail = "Value nesting too deep";
    throw e;
  }
}

namespace {
size_t HashKey(std::string_view k) { return std::hash<std::string_view>{}(k); }
}  // namespace

const Value* ObjectData::Find(std::string_view key) const {
  if (slots_.empty()) {
    for (const auto& e : entries) {
      if (e.first.size() == key.size() && std::memcmp(e.first.data(), key.data(), key.size()) == 0) {
        return &e.second;
      }
    }
    return nullptr;
  }
  size_t mask = slots_.size() - 1;
  for (size_t i = HashKey(key) & mask;; i = (i + 1) & mask) {
    uint32_t s = slots_[i];
    if (s == 0) return nullptr;
    if (entries[s - 1].first == key) return &entries[s - 1].second;
  }
}

void ObjectData::Set(std::string_view key, Value v) {
  if (const Value* existing = Find(key)) {
    *const_cast<Value*>(existing) = std::move(v);
    return;
  }
  AppendNew(key, std::move(v));
}

void ObjectData::AppendNew(std::string_view key, Value v) {
  entries.emplace_back(std::string(key), std::move(v));
  if (entries.size() > kIndexThreshold) {
    if (entries.size() * 2 > slots_.size()) {
      Rebuild();
    } else {
      size_t mask = slots_.size() - 1;
      size_t i = HashKey(key) & mask;
      while (slots_[i] != 0) i = (i + 1) & mask;
      slots_[i] = static_cast<uint32_t>(entries.size());
    }
  }
}

void ObjectData::Erase(std::string_view key) {
  for (size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].first == key) {
      entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(i));
      slots_.clear();
      if (entries.size() > kIndexThreshold) Rebuild();
      return;
    }
  }
}

void ObjectData::Rebuild() {
  size_t cap = 32;
  while (cap < entries.size() * 4) cap <<= 1;
  slots_.assign(cap, 0);
  size_t mask = cap - 1;
  for (size_t e = 0; e < entries.size(); ++e) {
    size_t i = HashKey(entries[e].first) & mask;
    while (slots_[i] != 0) i = (i + 1) & mask;
    slots_[i] = static_cast<uint32_t>(e + 1);
  }
}

Value FromJson(const Json& j) {
  CheckStack();
  switch (j.type()) {
    case Json::value_t::null:
      return Value::Null();
    case Json::value_t::boolean:
      return Value::Bool(j.get<bool>());
    case Json::value_t::number_integer:
      return Value::Number(static_cast<double>(j.get<int64_t>()));
    case Json::value_t::number_unsigned:
      return Value::Number(static_cast<double>(j.get<uint64_t>()));
    case Json::value_t::number_float:
      return Value::Number(j.get<double>());
    case Json::value_t::string:
      return Value::String(j.get<std::string>());
    case Json::value_t::array: {
      Value a = NewArray();
      auto& items = a.MutArray().items;
      items.reserve(j.size());
      for (const auto& e : j) items.push_back(FromJson(e));
      return a;
    }
    case Json::value_t::object: {
      Value o = NewObject();
      auto& od = o.MutObject();
      od.Reserve(j.size());
      for (auto it = j.begin(); it != j.end(); ++it) od.Set(it.key(), FromJson(it.value()));
      return o;
    }
    default:
      return Value();
  }
}

namespace {
Json NumberToJson(double d) {
  constexpr double kMaxSafeInteger = 9007199254740991.0;  // 2^53 - 1, as JavaScript
  if (std::isfinite(d) && std::floor(d) == d && std::fabs(d) <= kMaxSafeInteger) {
    return Json(static_cast<int64_t>(d));
  }
  if (!std::isfinite(d)) return Json(nullptr);  // JSON.stringify writes null
  return Json(d);
}
}  // namespace

Json ToJson(const Value& v) {
  CheckStack();
  switch (v.kind()) {
    case Kind::kUndefined:
    case Kind::kNull:
      return Json(nullptr);
    case Kind::kBool:
      return Json(v.AsBool());
    case Kind::kNumber:
      return NumberToJson(v.AsNumber());
    case Kind::kString:
      return Json(v.AsString());
    case Kind::kArray: {
      Json a = Json::array();
      a.get_ref<Json::array_t&>().reserve(v.AsArray().items.size());
      for (const auto& e : v.AsArray().items) {
        // JSON.stringify writes null for undefined and function array members.
        if (e.IsUndefined() || e.IsFunction()) {
          a.push_back(nullptr);
        } else {
          a.push_back(ToJson(e));
        }
      }
      return a;
    }
    case Kind::kObject: {
      Json o = Json::object();
      // Our keys are unique: append to the ordered map's vector without its per-key search.
      auto& members = static_cast<Json::object_t::Container&>(o.get_ref<Json::object_t&>());
      const auto& entries = v.AsObject().entries;
      members.reserve(entries.size());
      for (const auto& [k, e] : entries) {
        if (e.IsUndefined() || e.IsFunction()) continue;
        members.emplace_back(k, ToJson(e));
      }
      return o;
    }
    case Kind::kFunction:
      return Json("");
    case Kind::kTuples: {
      Json a = Json::array();
      for (const auto& t : v.AsTuples().tuples) a.push_back(ToJson(t.at));
      return a;
    }
  }
  return Json(nullptr);
}

bool DeepEqual(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return false;
  CheckStack();
  switch (a.kind()) {
    case Kind::kUndefined:
    case Kind::kNull:
      return true;
    case Kind::kBool:
      return a.AsBool() == b.AsBool();
    case Kind::kNumber:
      return a.AsNumber() == b.AsNumber();
    case Kind::kString:
      return a.SameHeap(b) || a.AsString() == b.AsString();
    case Kind::kArray: {
      if (a.SameHeap(b)) return true;
      const auto& x = a.AsArray().items;
      const auto& y = b.AsArray().items;
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!DeepEqual(x[i], y[i])) return false;
      }
      return true;
    }
    case Kind::kObject: {
      if (a.SameHeap(b)) return true;
      const auto& x = a.AsObject();
      const auto& y = b.AsObject();
      if (x.entries.size() != y.entries.size()) return false;
      for (const auto& [k, val] : x.entries) {
        const Value* other = y.Find(k);
        if (other == nullptr || !DeepEqual(val, *other)) return false;
      }
      return true;
    }
    default:
      return a.SameHeap(b);
  }
}

bool IsSequence(const Value& v) { return v.IsArray() && v.AsArray().sequence; }

}  // namespace stratus::jsonata::internal
