// libFuzzer entry for DynamoDB expressions. The first byte picks the expression kind (condition,
// key condition, update, projection, number); the rest is the text. Placeholders #a..#c and
// :a..:e are defined. Every input must end in a parsed expression (then evaluated or applied to a
// fixed item) or a ValidationException: a crash, sanitizer report or hang is a bug.
#include <cstddef>
#include <cstdint>
#include <string>

#include "services/dynamodb/attr.h"
#include "services/dynamodb/expr.h"
#include "services/dynamodb/number.h"

using stratus::Json;
namespace ddb = stratus::services::dynamodb;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const Json kNames = {{"#a", "a"}, {"#b", "list"}, {"#c", "m"}};
  static const Json kValues = {{":a", {{"N", "1"}}},
                               {":b", {{"S", "x"}}},
                               {":c", {{"SS", {"x", "y"}}}},
                               {":d", {{"L", {{{"N", "2"}}}}}},
                               {":e", {{"B", "AAE="}}}};
  static const Json kItem = {{"a", {{"N", "5"}}},
                             {"s", {{"S", "hello"}}},
                             {"list", {{"L", {{{"S", "p"}}, {{"M", {{"q", {{"N", "1"}}}}}}}}}},
                             {"m", {{"M", {{"n", {{"NS", {"1", "2"}}}}}}}}};
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  ddb::ExprContext ctx;
  ctx.names = &kNames;
  ctx.values = &kValues;
  switch (data[0] % 5) {
    case 0:
    case 1: {
      auto kind = data[0] % 5 == 0 ? ddb::ExprKind::kCondition : ddb::ExprKind::kKeyCondition;
      auto r = ddb::ParseCondition(text, kind, ctx);
      if (r.ok()) (void)ddb::EvalCondition(*r, kItem);
      break;
    }
    case 2: {
      auto r = ddb::ParseUpdate(text, ctx);
      if (r.ok()) {
        Json item = kItem;
        std::vector<ddb::Path> touched;
        (void)ddb::ApplyUpdate(*r, item, touched);
        (void)ddb::Project(item, touched);
      }
      break;
    }
    case 3: {
      auto r = ddb::ParseProjection(text, ctx);
      if (r.ok()) (void)ddb::Project(kItem, *r);
      break;
    }
    case 4: {
      auto d = ddb::Decimal::Parse(text);
      if (d.ok()) {
        auto back = ddb::Decimal::Parse(d->Format());
        if (!back.ok() || !(*back == *d)) __builtin_trap();
        (void)d->EncodeOrdered();
        (void)ddb::Decimal::Add(*d, *d);
      }
      break;
    }
  }
  (void)ddb::CheckUnused(ctx);
  return 0;
}
