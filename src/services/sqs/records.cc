#include "services/sqs/records.h"

#include <cstring>

#include "core/strings.h"
#include "services/sqs/queue_config.h"

namespace stratus::services::sqs::records {

std::string Hex16(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(16, '0');
  for (int i = 15; i >= 0; --i) {
    s[i] = kDigits[v & 0xF];
    v >>= 4;
  }
  return s;
}

std::optional<uint64_t> ParseHex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (d < 0) return std::nullopt;
    v = (v << 4) | static_cast<uint64_t>(d);
  }
  return v;
}

std::string EncodeQueue(const Queue& q) {
  Json j{{"id", Hex16(q.id)},          {"account", q.ref.account}, {"region", q.ref.region},
         {"name", q.ref.name},         {"attributes", q.attributes}, {"tags", q.tags},
         {"created", q.created_s},     {"modified", q.modified_s}, {"purged", q.last_purge_ms}};
  return j.dump();
}

bool DecodeQueue(std::string_view value, Queue& q) {
  Json j = ParseJsonOrDiscarded(value);
  if (!j.is_object()) return false;
  auto id = ParseHex16(j.value("id", ""));
  if (!id) return false;
  q.id = *id;
  q.ref = QueueRef{j.value("account", ""), j.value("region", ""), j.value("name", "")};
  q.attributes = j.value("attributes", Json::object());
  q.tags = j.value("tags", Json::object());
  q.created_s = j.value("created", int64_t{0});
  q.modified_s = j.value("modified", int64_t{0});
  q.last_purge_ms = j.value("purged", int64_t{0});
  q.config = ParseConfig(q.attributes);
  return true;
}

namespace {

bool AppendMember(std::string& out, char name, std::string_view value) {
  out.append(",\"");
  out.push_back(name);
  out.append("\":");
  return AppendJsonString(out, value);
}

void AppendMember(std::string& out, char name, int64_t value) {
  out.append(",\"");
  out.push_back(name);
  out.append("\":");
  out.append(std::to_string(value));
}

}  // namespace

// Written directly rather than through a DOM (one per send of every message): the same JSON the
// DOM would write, member for member, so DecodeMessage and records written before read alike.
std::string EncodeMessage(const Message& m) {
  std::string out;
  out.reserve(m.body.size() + m.id.size() + m.trace_header.size() + m.sender_id.size() + 128);
  out.append("{\"i\":");
  bool utf8 = AppendJsonString(out, m.id);
  utf8 = AppendMember(out, 'b', m.body) && utf8;
  if (!m.attributes.empty()) {
    out.append(",\"a\":");
    out.append(DumpJson(m.attributes));
  }
  if (!m.trace_header.empty()) utf8 = AppendMember(out, 't', m.trace_header) && utf8;
  if (!m.sender_id.empty()) utf8 = AppendMember(out, 'n', m.sender_id) && utf8;
  if (!m.group.empty()) utf8 = AppendMember(out, 'g', m.group) && utf8;
  if (!m.dedup_id.empty()) utf8 = AppendMember(out, 'd', m.dedup_id) && utf8;
  if (!m.dlq_source_arn.empty()) utf8 = AppendMember(out, 'q', m.dlq_source_arn) && utf8;
  AppendMember(out, 's', m.sent_ms);
  AppendMember(out, 'v', m.visible_at_ms);
  if (m.receive_count > 0) AppendMember(out, 'c', int64_t{m.receive_count});
  if (m.first_receive_ms > 0) AppendMember(out, 'f', m.first_receive_ms);
  out.push_back('}');
  if (utf8) return out;
  // Invalid UTF-8 is replaced (U+FFFD), as the DOM's dump does it.
  Json j = Json::object();
  j["i"] = m.id;
  j["b"] = m.body;
  if (!m.attributes.empty()) j["a"] = m.attributes;
  if (!m.trace_header.empty()) j["t"] = m.trace_header;
  if (!m.sender_id.empty()) j["n"] = m.sender_id;
  if (!m.group.empty()) j["g"] = m.group;
  if (!m.dedup_id.empty()) j["d"] = m.dedup_id;
  if (!m.dlq_source_arn.empty()) j["q"] = m.dlq_source_arn;
  j["s"] = m.sent_ms;
  j["v"] = m.visible_at_ms;
  if (m.receive_count > 0) j["c"] = m.receive_count;
  if (m.first_receive_ms > 0) j["f"] = m.first_receive_ms;
  return DumpJson(j);
}

bool DecodeMessage(std::string_view value, Message& m) {
  Json j = ParseJsonOrDiscarded(value);
  if (!j.is_object()) return false;
  m.id = j.value("i", "");
  m.body = j.value("b", "");
  m.attributes = j.value("a", Json::object());
  m.trace_header = j.value("t", "");
  m.sender_id = j.value("n", "");
  m.group = j.value("g", "");
  m.dedup_id = j.value("d", "");
  m.dlq_source_arn = j.value("q", "");
  m.sent_ms = j.value("s", int64_t{0});
  m.visible_at_ms = j.value("v", int64_t{0});
  m.receive_count = j.value("c", 0);
  m.first_receive_ms = j.value("f", int64_t{0});
  return true;
}

// Written directly (one per message of every receive), as the DOM would write it.
std::string EncodeState(const Message& m) {
  std::string out;
  out.reserve(96);
  out.append("{\"v\":");
  out.append(std::to_string(m.visible_at_ms));
  AppendMember(out, 'c', int64_t{m.receive_count});
  AppendMember(out, 'f', m.first_receive_ms);
  AppendMember(out, 'n', Hex16(m.nonce));
  if (m.received_ms > 0) AppendMember(out, 'r', m.received_ms);
  out.append(m.in_flight ? ",\"x\":true}" : ",\"x\":false}");
  return out;
}

bool DecodeState(std::string_view value, Message& m) {
  Json j = ParseJsonOrDiscarded(value);
  if (!j.is_object()) return false;
  m.visible_at_ms = j.value("v", int64_t{0});
  m.receive_count = j.value("c", 0);
  m.first_receive_ms = j.value("f", int64_t{0});
  m.nonce = ParseHex16(j.value("n", "")).value_or(0);
  m.received_ms = j.value("r", int64_t{0});
  m.in_flight = j.value("x", false);
  return true;
}

}  // namespace stratus::services::sqs::records
