// XML bodies: query responses and rest-xml requests/responses <-> canonical JSON.
#include <pugixml.hpp>

#include "aws/protocol/internal.h"
#include "core/strings.h"

namespace stratus::aws::internal {

void XmlWriter::Open(std::string_view name, std::string_view attrs) {
  out_.push_back('<');
  out_.append(name);
  out_.append(attrs);
  out_.push_back('>');
}

void XmlWriter::Close(std::string_view name) {
  out_.append("</");
  out_.append(name);
  out_.push_back('>');
}

void XmlWriter::Element(std::string_view name, std::string_view text) {
  Open(name);
  Text(text);
  Close(name);
}

void XmlWriter::Text(std::string_view text) {
  size_t run = 0;  // start of the pending run that needs no escape
  for (size_t i = 0; i < text.size(); ++i) {
    const char* rep;
    switch (text[i]) {
      case '&': rep = "&amp;"; break;
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '"': rep = "&quot;"; break;
      case '\'': rep = "&apos;"; break;
      case '\r': rep = "&#xD;"; break;
      default: continue;
    }
    out_.append(text.data() + run, i - run);
    out_.append(rep);
    run = i + 1;
  }
  out_.append(text.data() + run, text.size() - run);
}

namespace {

bool Flattened(const Member& m) { return m.flattened || m.shape->flattened; }

const std::string& NameOr(const Member& m, const std::string& fallback) {
  return m.location_name.empty() ? fallback : m.location_name;
}

const std::string kMember = "member";
const std::string kEntry = "entry";
const std::string kKey = "key";
const std::string kValue = "value";

std::string MemberNamespace(const Member& m) {
  if (m.xml_namespace_uri) return XmlNamespaceAttr(m.xml_namespace_uri, m.xml_namespace_prefix);
  if (m.shape->xml_namespace_uri) {
    return XmlNamespaceAttr(m.shape->xml_namespace_uri, m.shape->xml_namespace_prefix);
  }
  return {};
}

// Writes `value` as the element `name` described by `member` (a structure member, a list's
// member or a map's key/value).
void WriteNamed(XmlWriter& w, const std::string& name, const Member& member, const Json& value) {
  const Shape& shape = *member.shape;
  switch (shape.type) {
    case ShapeType::kStructure:
      w.Open(name, MemberNamespace(member) + XmlAttributes(shape, value));
      WriteXmlMembers(w, shape, value, false);
      w.Close(name);
      return;
    case ShapeType::kList: {
      const Member& item = *shape.list_member;
      if (!value.is_array()) return;
      if (Flattened(member)) {
        for (const Json& v : value) WriteNamed(w, name, item, v);
        return;
      }
      w.Open(name, MemberNamespace(member));
      for (const Json& v : value) WriteNamed(w, NameOr(item, kMember), item, v);
      w.Close(name);
      return;
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return;
      const Member& key = *shape.map_key;
      const Member& val = *shape.map_value;
      bool flat = Flattened(member);
      if (!flat) w.Open(name, MemberNamespace(member));
      for (const auto& [k, v] : value.items()) {
        const std::string& entry = flat ? name : kEntry;
        w.Open(entry);
        WriteNamed(w, NameOr(key, kKey), key, Json(k));
        WriteNamed(w, NameOr(val, kValue), val, v);
        w.Close(entry);
      }
      if (!flat) w.Close(name);
      return;
    }
    default:
      w.Open(name, MemberNamespace(member));
      if (value.is_string() && shape.type == ShapeType::kString) {
        w.Text(value.get_ref<const std::string&>());
      } else {
        w.Text(ScalarToText(shape, value, TimestampFormatOf(member, TsFormat::kIso8601)));
      }
      w.Close(name);
  }
}

}  // namespace

std::string XmlNamespaceAttr(const std::optional<std::string>& uri,
                             const std::optional<std::string>& prefix) {
  if (!uri) return {};
  std::string out = " xmlns";
  if (prefix && !prefix->empty()) out += ":" + *prefix;
  out += "=\"" + XmlEscape(*uri) + "\"";
  return out;
}

std::string XmlAttributes(const Shape& shape, const Json& value) {
  std::string out;
  if (!value.is_object()) return out;
  for (const Member& m : shape.members) {
    if (!m.xml_attribute) continue;
    auto it = value.find(m.name);
    if (it == value.end()) continue;
    out += " " + m.WireName() + "=\"" +
           XmlEscape(ScalarToText(*m.shape, *it, TimestampFormatOf(m, TsFormat::kIso8601))) + "\"";
  }
  return out;
}

void WriteXmlMembers(XmlWriter& w, const Shape& shape, const Json& value, bool skip_bound) {
  if (!value.is_object()) return;
  for (const Member& m : shape.members) {
    if (m.xml_attribute || (skip_bound && IsResponseBound(m))) continue;
    auto it = value.find(m.name);
    if (it == value.end() || it->is_null()) continue;
    WriteXmlMember(w, m, *it);
  }
}

void WriteUnmodelledXmlFields(XmlWriter& w, const Shape* shape, const Json& fields) {
  if (!fields.is_object()) return;
  for (const auto& [k, v] : fields.items()) {
    if (v.is_null() || (shape != nullptr && shape->FindMember(k) != nullptr)) continue;
    if (k == "Message" || k == "message") continue;  // written as <Message> by the caller
    w.Element(k, v.is_string() ? v.get<std::string>() : DumpJson(v));
  }
}

void WriteXmlMember(XmlWriter& w, const Member& member, const Json& value) {
  // A flattened list takes its items' name when the list member names one.
  if (member.shape->type == ShapeType::kList && Flattened(member) &&
      !member.shape->list_member->location_name.empty()) {
    WriteNamed(w, member.shape->list_member->location_name, member, value);
    return;
  }
  WriteNamed(w, member.WireName(), member, value);
}

// ---- reading --------------------------------------------------------------------------------

namespace {

std::string_view LocalName(std::string_view n) {
  size_t colon = n.find(':');
  return colon == std::string_view::npos ? n : n.substr(colon + 1);
}

bool NameIs(const pugi::xml_node& node, std::string_view name) {
  return node.type() == pugi::node_element &&
         (node.name() == name || LocalName(node.name()) == LocalName(name));
}

Error BadValue(const Member& m, std::string_view text) {
  return MalformedXml("The value '" + std::string(text.substr(0, 64)) +
                      "' is not valid for element " + m.WireName());
}

}  // namespace

Result<Json> XmlValue(const Member& member, const pugi::xml_node& node, int depth) {
  if (depth > kMaxNestingDepth) return MalformedXml("The XML you provided is nested too deeply");
  const Shape& shape = *member.shape;
  switch (shape.type) {
    case ShapeType::kStructure: return StructureFromXml(shape, node, depth);
    case ShapeType::kList: {
      const Member& item = *shape.list_member;
      const std::string& name = NameOr(item, kMember);
      Json out = Json::array();
      for (pugi::xml_node child : node.children()) {
        if (!NameIs(child, name)) continue;
        STRATUS_ASSIGN_OR_RETURN(Json v, XmlValue(item, child, depth + 1));
        out.push_back(std::move(v));
      }
      return out;
    }
    case ShapeType::kMap: {
      Json out = Json::object();
      for (pugi::xml_node child : node.children()) {
        if (!NameIs(child, kEntry)) continue;
        STRATUS_ASSIGN_OR_RETURN(auto kv, XmlValue(*shape.map_key, child.child(NameOr(*shape.map_key, kKey).c_str()), depth + 1));
        pugi::xml_node vnode = child.child(NameOr(*shape.map_value, kValue).c_str());
        STRATUS_ASSIGN_OR_RETURN(Json v, XmlValue(*shape.map_value, vnode, depth + 1));
        if (kv.is_string()) out[kv.get<std::string>()] = std::move(v);
      }
      return out;
    }
    default: {
      std::string_view text = node.text().get();
      auto v = ScalarFromText(shape, text, TimestampFormatOf(member, TsFormat::kIso8601));
      if (!v) return BadValue(member, text);
      return std::move(*v);
    }
  }
}

Result<Json> StructureFromXml(const Shape& shape, const pugi::xml_node& node, int depth) {
  if (depth > kMaxNestingDepth) return MalformedXml("The XML you provided is nested too deeply");
  Json out = Json::object();
  for (const Member& m : shape.members) {
    if (m.location != Location::kBody) continue;
    if (m.xml_attribute) {
      pugi::xml_attribute a = node.attribute(m.WireName().c_str());
      if (!a) continue;
      auto v = ScalarFromText(*m.shape, a.value(), TimestampFormatOf(m, TsFormat::kIso8601));
      if (!v) return BadValue(m, a.value());
      out[m.name] = std::move(*v);
      continue;
    }
    const Shape& s = *m.shape;
    if (Flattened(m) && (s.type == ShapeType::kList || s.type == ShapeType::kMap)) {
      bool list = s.type == ShapeType::kList;
      // Items are named after the member (Smithy) or, in older models, after the list's member.
      const std::string& name = m.WireName();
      const std::string& alt = list ? s.list_member->location_name : name;
      Json acc = list ? Json::array() : Json::object();
      bool any = false;
      for (pugi::xml_node child : node.children()) {
        if (!NameIs(child, name) && (alt.empty() || !NameIs(child, alt))) continue;
        any = true;
        if (list) {
          STRATUS_ASSIGN_OR_RETURN(Json v, XmlValue(*s.list_member, child, depth + 1));
          acc.push_back(std::move(v));
        } else {
          STRATUS_ASSIGN_OR_RETURN(Json k, XmlValue(*s.map_key, child.child(NameOr(*s.map_key, kKey).c_str()), depth + 1));
          STRATUS_ASSIGN_OR_RETURN(Json v, XmlValue(*s.map_value, child.child(NameOr(*s.map_value, kValue).c_str()), depth + 1));
          if (k.is_string()) acc[k.get<std::string>()] = std::move(v);
        }
      }
      if (any) out[m.name] = std::move(acc);
      continue;
    }
    for (pugi::xml_node child : node.children()) {
      if (!NameIs(child, m.WireName())) continue;
      STRATUS_ASSIGN_OR_RETURN(Json v, XmlValue(m, child, depth + 1));
      out[m.name] = std::move(v);
      break;
    }
  }
  return out;
}

Result<Json> ParseXmlStructure(const Shape& shape, std::string_view text) {
  if (!IsValidUtf8(text)) return MalformedXml("");
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(
      text.data(), text.size(), pugi::parse_default | pugi::parse_ws_pcdata, pugi::encoding_utf8);
  if (!parsed) return MalformedXml("");
  pugi::xml_node root = doc.document_element();
  if (!root) return MalformedXml("");
  return StructureFromXml(shape, root, 0);
}

}  // namespace stratus::aws::internal
