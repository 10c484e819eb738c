// JSON bodies of the json 1.0/1.1 and rest-json protocols: wire JSON <-> canonical JSON.
#include <cmath>

#include "aws/protocol/internal.h"
#include "aws/protocol/wire_json.h"
#include "core/strings.h"

namespace stratus::aws::internal {
namespace {

// Jackson-style token names, as AWS's SerializationException messages print them.
const char* TokenName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::object: return "START_OBJECT";
    case Json::value_t::array: return "START_ARRAY";
    case Json::value_t::string: return "STRING_VALUE";
    case Json::value_t::boolean: return "BOOLEAN_VALUE";
    case Json::value_t::number_float: return "NUMBER_FLOAT";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned: return "NUMBER_INT";
    default: return "NULL_VALUE";
  }
}

const char* TypeName(ShapeType t) {
  switch (t) {
    case ShapeType::kStructure: return "Structure";
    case ShapeType::kList: return "List";
    case ShapeType::kMap: return "Map";
    case ShapeType::kString: return "String";
    case ShapeType::kInteger: return "Integer";
    case ShapeType::kLong: return "Long";
    case ShapeType::kFloat: return "Float";
    case ShapeType::kDouble: return "Double";
    case ShapeType::kBoolean: return "Boolean";
    case ShapeType::kTimestamp: return "Timestamp";
    case ShapeType::kBlob: return "Blob";
    case ShapeType::kBigDecimal: return "BigDecimal";
    case ShapeType::kByte: return "Byte";
    case ShapeType::kShort: return "Short";
  }
  return "Value";
}

Error Mistyped(const Json& v, ShapeType t) {
  return SerializationError(std::string(TokenName(v)) + " cannot be converted to " + TypeName(t));
}

Result<Json> IntegerFromWire(const Shape& shape, const Json& v) {
  int64_t i;
  if (v.is_number_integer()) {
    i = v.get<int64_t>();
  } else if (v.is_number_unsigned()) {
    return SerializationError("Number " + v.dump() + " is out of range for " + TypeName(shape.type));
  } else if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::floor(d) != d || std::fabs(d) > 9.2e18) {
      return SerializationError("Number " + FormatDouble(d) + " cannot be converted to " +
                                 TypeName(shape.type));
    }
    i = static_cast<int64_t>(d);
  } else {
    return Mistyped(v, shape.type);
  }
  auto text = std::to_string(i);
  if (!ScalarFromText(shape, text, TsFormat::kEpoch)) {
    return SerializationError("Number " + text + " is out of range for " + TypeName(shape.type));
  }
  return Json(i);
}

}  // namespace

Result<Json> StructureFromWire(const Shape& shape, Json& wire, int depth) {
  if (shape.document) return std::move(wire);
  if (!wire.is_object()) return Mistyped(wire, ShapeType::kStructure);
  Json out = Json::object();
  for (auto& [key, value] : wire.items()) {
    if (value.is_null()) continue;
    const Member* member = nullptr;
    for (const Member& m : shape.members) {
      if (m.WireName() == key) {
        member = &m;
        break;
      }
    }
    if (member == nullptr) continue;  // unknown members are ignored, as AWS does
    STRATUS_ASSIGN_OR_RETURN(Json v, JsonFromWire(*member, value, depth + 1));
    out[member->name] = std::move(v);
  }
  return out;
}

Result<Json> JsonFromWire(const Member& member, Json& wire, int depth) {
  if (depth > kMaxNestingDepth) return SerializationError("Input nesting is too deep");
  const Shape& shape = *member.shape;
  switch (shape.type) {
    case ShapeType::kStructure: return StructureFromWire(shape, wire, depth);
    case ShapeType::kList: {
      if (!wire.is_array()) return Mistyped(wire, shape.type);
      Json out = Json::array();
      for (Json& item : wire) {
        if (item.is_null()) continue;
        STRATUS_ASSIGN_OR_RETURN(Json v, JsonFromWire(*shape.list_member, item, depth + 1));
        out.push_back(std::move(v));
      }
      return out;
    }
    case ShapeType::kMap: {
      if (!wire.is_object()) return Mistyped(wire, shape.type);
      Json out = Json::object();
      for (auto& [key, value] : wire.items()) {
        if (value.is_null()) continue;
        STRATUS_ASSIGN_OR_RETURN(Json v, JsonFromWire(*shape.map_value, value, depth + 1));
        out[key] = std::move(v);
      }
      return out;
    }
    case ShapeType::kString:
      if (!wire.is_string()) return Mistyped(wire, shape.type);
      return std::move(wire);
    case ShapeType::kBoolean:
      if (!wire.is_boolean()) return Mistyped(wire, shape.type);
      return wire;
    case ShapeType::kInteger:
    case ShapeType::kLong:
    case ShapeType::kByte:
    case ShapeType::kShort: return IntegerFromWire(shape, wire);
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal:
      if (wire.is_number()) return Json(wire.get<double>());
      if (wire.is_string()) {
        const auto& s = wire.get_ref<const std::string&>();
        if (s == "NaN" || s == "Infinity" || s == "-Infinity") return wire;
      }
      return Mistyped(wire, shape.type);
    case ShapeType::kTimestamp: {
      if (wire.is_number()) return EpochJson(wire.get<double>());
      if (wire.is_string()) {
        if (auto secs = ParseTimestampText(wire.get_ref<const std::string&>())) return EpochJson(*secs);
        return SerializationError("Cannot parse timestamp '" + wire.get<std::string>() + "'");
      }
      return Mistyped(wire, shape.type);
    }
    case ShapeType::kBlob:
      if (!wire.is_string()) return Mistyped(wire, shape.type);
      if (!Base64Decode(wire.get_ref<const std::string&>())) {
        return SerializationError("Base64 encoded value is not valid for a Blob");
      }
      return std::move(wire);
  }
  return Mistyped(wire, shape.type);
}

void WriteJsonString(std::string& out, std::string_view s) { AppendJsonString(out, s); }

void WriteJsonStructure(std::string& out, const Shape& shape, const Json& value, bool skip_bound) {
  if (shape.document) {
    out.append(DumpJson(value));
    return;
  }
  out.push_back('{');
  bool first = true;
  if (value.is_object()) {
    for (const Member& m : shape.members) {
      if (skip_bound && IsResponseBound(m)) continue;
      auto it = value.find(m.name);
      if (it == value.end() || it->is_null()) continue;
      if (!first) out.push_back(',');
      first = false;
      WriteJsonString(out, m.WireName());
      out.push_back(':');
      WriteJson(out, m, *it);
    }
  }
  out.push_back('}');
}

void WriteJson(std::string& out, const Member& member, const Json& value) {
  if (IsWireJson(value)) {  // already in wire form (wire_json.h)
    out.append(WireJsonText(value));
    return;
  }
  const Shape& shape = *member.shape;
  switch (shape.type) {
    case ShapeType::kStructure: WriteJsonStructure(out, shape, value, false); return;
    case ShapeType::kList: {
      out.push_back('[');
      bool first = true;
      if (value.is_array()) {
        for (const Json& item : value) {
          if (!first) out.push_back(',');
          first = false;
          WriteJson(out, *shape.list_member, item);
        }
      }
      out.push_back(']');
      return;
    }
    case ShapeType::kMap: {
      out.push_back('{');
      bool first = true;
      if (value.is_object()) {
        for (const auto& [k, v] : value.items()) {
          if (v.is_null()) continue;
          if (!first) out.push_back(',');
          first = false;
          WriteJsonString(out, k);
          out.push_back(':');
          WriteJson(out, *shape.map_value, v);
        }
      }
      out.push_back('}');
      return;
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble:
    case ShapeType::kBigDecimal:
      if (value.is_number()) {
        double d = value.get<double>();
        if (std::isfinite(d)) {
          out.append(FormatDouble(d));
        } else {
          WriteJsonString(out, FormatDouble(d));
        }
        return;
      }
      break;
    case ShapeType::kTimestamp:
      if (auto secs = CanonicalSeconds(value)) {
        TsFormat f = TimestampFormatOf(member, TsFormat::kEpoch);
        if (f == TsFormat::kEpoch) {
          out.append(FormatDouble(*secs));
        } else {
          WriteJsonString(out, FormatTimestamp(*secs, f));
        }
        return;
      }
      break;
    default: break;
  }
  if (value.is_string()) {
    WriteJsonString(out, value.get_ref<const std::string&>());
  } else {
    out.append(DumpJson(value));
  }
}

}  // namespace stratus::aws::internal
