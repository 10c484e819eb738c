// Segments: construction helpers and the X-Ray segment document form (trace/recorder.h).
#include <algorithm>

#include "core/strings.h"
#include "trace/recorder.h"

namespace stratus::trace {

namespace {

constexpr size_t kMaxAnnotationKeyLength = 500;
// Nesting of subsegments accepted in a document; X-Ray SDKs nest a handful of levels.
constexpr int kMaxSubsegmentDepth = 32;

Error Invalid(std::string message) {
  return Error("InvalidRequestException", std::move(message), 400);
}

bool IsAnnotationKey(std::string_view key) {
  if (key.empty() || key.size() > kMaxAnnotationKeyLength) return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

bool IsScalar(const Json& v) { return v.is_string() || v.is_number() || v.is_boolean(); }

// Characters, not bytes, for X-Ray's length limits.
size_t Utf8Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

Json DocumentOf(const Segment& s) {
  Json doc = Json::object();
  doc["name"] = s.name;
  doc["id"] = s.id;
  if (!s.trace_id.empty()) doc["trace_id"] = s.trace_id;
  if (!s.parent_id.empty()) doc["parent_id"] = s.parent_id;
  if (!s.type.empty()) doc["type"] = s.type;
  doc["start_time"] = s.start_time;
  if (s.in_progress) {
    doc["in_progress"] = true;
  } else {
    doc["end_time"] = s.end_time;
  }
  if (!s.origin.empty()) doc["origin"] = s.origin;
  if (!s.user.empty()) doc["user"] = s.user;
  if (!s.namespace_.empty()) doc["namespace"] = s.namespace_;
  if (s.http_request || s.http_response) {
    Json http = Json::object();
    if (s.http_request) {
      const HttpRequestInfo& r = *s.http_request;
      Json req = Json::object();
      if (!r.method.empty()) req["method"] = r.method;
      if (!r.url.empty()) req["url"] = r.url;
      if (!r.user_agent.empty()) req["user_agent"] = r.user_agent;
      if (!r.client_ip.empty()) req["client_ip"] = r.client_ip;
      if (r.x_forwarded_for) req["x_forwarded_for"] = true;
      if (r.traced) req["traced"] = true;
      http["request"] = std::move(req);
    }
    if (s.http_response) {
      Json resp = Json::object();
      if (s.http_response->status) resp["status"] = s.http_response->status;
      if (s.http_response->content_length >= 0) {
        resp["content_length"] = s.http_response->content_length;
      }
      http["response"] = std::move(resp);
    }
    doc["http"] = std::move(http);
  }
  if (s.error) doc["error"] = true;
  if (s.throttle) doc["throttle"] = true;
  if (s.fault) doc["fault"] = true;
  if (!s.cause.empty()) {
    Json cause = Json::object();
    if (!s.cause.working_directory.empty()) cause["working_directory"] = s.cause.working_directory;
    Json exceptions = Json::array();
    for (const ExceptionInfo& e : s.cause.exceptions) {
      Json ex = Json::object();
      if (!e.id.empty()) ex["id"] = e.id;
      if (!e.message.empty()) ex["message"] = e.message;
      if (!e.type.empty()) ex["type"] = e.type;
      if (e.remote) ex["remote"] = true;
      exceptions.push_back(std::move(ex));
    }
    cause["exceptions"] = std::move(exceptions);
    doc["cause"] = std::move(cause);
  }
  if (s.annotations.is_object() && !s.annotations.empty()) doc["annotations"] = s.annotations;
  if (s.metadata.is_object() && !s.metadata.empty()) doc["metadata"] = s.metadata;
  if ((s.aws.is_object() && !s.aws.empty()) || !s.aws_strings.empty()) {
    Json aws = s.aws.is_object() ? s.aws : Json::object();
    for (const auto& [key, value] : s.aws_strings) {
      if (!aws.contains(key)) aws.emplace(std::string(key), value);
    }
    doc["aws"] = std::move(aws);
  }
  if (!s.precursor_ids.empty()) doc["precursor_ids"] = s.precursor_ids;
  if (!s.subsegments.empty()) {
    Json subs = Json::array();
    for (const Segment& sub : s.subsegments) subs.push_back(DocumentOf(sub));
    doc["subsegments"] = std::move(subs);
  }
  if (s.extra.is_object()) {
    for (const auto& [k, v] : s.extra.items()) {
      if (!doc.contains(k)) doc[k] = v;
    }
  }
  return doc;
}

Result<std::string> StringField(const Json& doc, std::string_view name, bool required) {
  auto it = doc.find(name);
  if (it == doc.end()) {
    if (required) return Invalid("segment document is missing '" + std::string(name) + "'");
    return std::string();
  }
  if (!it->is_string()) return Invalid("'" + std::string(name) + "' must be a string");
  return it->get<std::string>();
}

Result<bool> BoolField(const Json& doc, std::string_view name) {
  auto it = doc.find(name);
  if (it == doc.end()) return false;
  if (!it->is_boolean()) return Invalid("'" + std::string(name) + "' must be a boolean");
  return it->get<bool>();
}

Result<Segment> SegmentOf(const Json& doc, bool nested, int depth) {
  if (!doc.is_object()) return Invalid("a segment document must be a JSON object");
  if (depth > kMaxSubsegmentDepth) return Invalid("subsegments are nested too deeply");
  Segment s;

  STRATUS_ASSIGN_OR_RETURN(s.name, StringField(doc, "name", true));
  size_t name_length = Utf8Length(s.name);
  if (name_length == 0 || name_length > kMaxNameLength) {
    return Invalid("'name' must have 1 to 200 characters");
  }
  if (std::any_of(s.name.begin(), s.name.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20; })) {
    return Invalid("'name' must not contain control characters");
  }
  STRATUS_ASSIGN_OR_RETURN(s.id, StringField(doc, "id", true));
  if (!IsValidSegmentId(s.id)) return Invalid("'id' must be 16 hexadecimal digits");
  STRATUS_ASSIGN_OR_RETURN(s.type, StringField(doc, "type", false));
  if (!s.type.empty() && s.type != "subsegment") return Invalid("'type' must be 'subsegment'");
  STRATUS_ASSIGN_OR_RETURN(s.trace_id, StringField(doc, "trace_id", !nested));
  if (!nested && !IsValidTraceId(s.trace_id)) {
    return Invalid("'trace_id' must be 1-{8 hex digits}-{24 hex digits}");
  }
  STRATUS_ASSIGN_OR_RETURN(s.parent_id, StringField(doc, "parent_id", s.type == "subsegment"));
  if (!s.parent_id.empty() && !IsValidSegmentId(s.parent_id)) {
    return Invalid("'parent_id' must be 16 hexadecimal digits");
  }

  auto start = doc.find("start_time");
  if (start == doc.end() || !start->is_number()) return Invalid("'start_time' must be a number");
  s.start_time = start->get<double>();
  STRATUS_ASSIGN_OR_RETURN(s.in_progress, BoolField(doc, "in_progress"));
  auto end = doc.find("end_time");
  if (end != doc.end()) {
    if (!end->is_number()) return Invalid("'end_time' must be a number");
    s.end_time = end->get<double>();
  } else if (!s.in_progress) {
    return Invalid("a segment needs 'end_time' or 'in_progress'");
  }

  STRATUS_ASSIGN_OR_RETURN(s.origin, StringField(doc, "origin", false));
  STRATUS_ASSIGN_OR_RETURN(s.user, StringField(doc, "user", false));
  STRATUS_ASSIGN_OR_RETURN(s.namespace_, StringField(doc, "namespace", false));
  STRATUS_ASSIGN_OR_RETURN(s.error, BoolField(doc, "error"));
  STRATUS_ASSIGN_OR_RETURN(s.throttle, BoolField(doc, "throttle"));
  STRATUS_ASSIGN_OR_RETURN(s.fault, BoolField(doc, "fault"));

  if (auto http = doc.find("http"); http != doc.end()) {
    if (!http->is_object()) return Invalid("'http' must be an object");
    if (auto req = http->find("request"); req != http->end() && req->is_object()) {
      HttpRequestInfo r;
      STRATUS_ASSIGN_OR_RETURN(r.method, StringField(*req, "method", false));
      STRATUS_ASSIGN_OR_RETURN(r.url, StringField(*req, "url", false));
      STRATUS_ASSIGN_OR_RETURN(r.user_agent, StringField(*req, "user_agent", false));
      STRATUS_ASSIGN_OR_RETURN(r.client_ip, StringField(*req, "client_ip", false));
      STRATUS_ASSIGN_OR_RETURN(r.x_forwarded_for, BoolField(*req, "x_forwarded_for"));
      STRATUS_ASSIGN_OR_RETURN(r.traced, BoolField(*req, "traced"));
      s.http_request = std::move(r);
    }
    if (auto resp = http->find("response"); resp != http->end() && resp->is_object()) {
      HttpResponseInfo r;
      if (auto st = resp->find("status"); st != resp->end() && st->is_number_integer()) {
        r.status = st->get<int>();
      }
      if (auto cl = resp->find("content_length"); cl != resp->end() && cl->is_number_integer()) {
        r.content_length = cl->get<int64_t>();
      }
      s.http_response = r;
    }
  }

  if (auto cause = doc.find("cause"); cause != doc.end()) {
    if (cause->is_object()) {
      STRATUS_ASSIGN_OR_RETURN(s.cause.working_directory,
                               StringField(*cause, "working_directory", false));
      if (auto exs = cause->find("exceptions"); exs != cause->end() && exs->is_array()) {
        for (const Json& e : *exs) {
          if (!e.is_object()) return Invalid("'cause.exceptions' must hold objects");
          ExceptionInfo ex;
          STRATUS_ASSIGN_OR_RETURN(ex.id, StringField(e, "id", false));
          STRATUS_ASSIGN_OR_RETURN(ex.message, StringField(e, "message", false));
          STRATUS_ASSIGN_OR_RETURN(ex.type, StringField(e, "type", false));
          STRATUS_ASSIGN_OR_RETURN(ex.remote, BoolField(e, "remote"));
          s.cause.exceptions.push_back(std::move(ex));
        }
      }
    } else if (!cause->is_string()) {
      // A string cause is the id of an exception recorded elsewhere; kept in `extra`.
      return Invalid("'cause' must be an object or an exception id");
    }
  }

  if (auto a = doc.find("annotations"); a != doc.end()) {
    if (!a->is_object()) return Invalid("'annotations' must be an object");
    if (a->size() > kMaxAnnotations) return Invalid("a segment may have at most 50 annotations");
    for (const auto& [k, v] : a->items()) {
      if (!IsAnnotationKey(k)) return Invalid("annotation key '" + k + "' is not alphanumeric");
      if (!IsScalar(v))
        return Invalid("annotation '" + k + "' must be a string, number or boolean");
    }
    s.annotations = *a;
  }
  if (auto m = doc.find("metadata"); m != doc.end()) {
    if (!m->is_object()) return Invalid("'metadata' must be an object");
    s.metadata = *m;
  }
  if (auto aws = doc.find("aws"); aws != doc.end()) {
    if (!aws->is_object()) return Invalid("'aws' must be an object");
    s.aws = *aws;
  }
  if (auto p = doc.find("precursor_ids"); p != doc.end()) {
    if (!p->is_array()) return Invalid("'precursor_ids' must be an array");
    for (const Json& id : *p) {
      if (!id.is_string()) return Invalid("'precursor_ids' must hold strings");
      s.precursor_ids.push_back(id.get<std::string>());
    }
  }
  if (auto subs = doc.find("subsegments"); subs != doc.end()) {
    if (!subs->is_array()) return Invalid("'subsegments' must be an array");
    for (const Json& sub : *subs) {
      STRATUS_ASSIGN_OR_RETURN(Segment child, SegmentOf(sub, /*nested=*/true, depth + 1));
      s.subsegments.push_back(std::move(child));
    }
  }

  static constexpr std::string_view kKnown[] = {
      "name",        "id",       "trace_id",    "parent_id",     "type",
      "start_time",  "end_time", "in_progress", "origin",        "user",
      "namespace",   "http",     "error",       "throttle",      "fault",
      "annotations", "metadata", "aws",         "precursor_ids", "subsegments"};
  for (const auto& [k, v] : doc.items()) {
    bool known = std::find(std::begin(kKnown), std::end(kKnown), k) != std::end(kKnown);
    if (k == "cause" && v.is_object()) known = true;
    if (known) continue;
    if (!s.extra.is_object()) s.extra = Json::object();
    s.extra[k] = v;
  }
  return s;
}

}  // namespace

Segment NewSegment(const TraceContext& ctx, std::string name, std::string origin,
                   double start_time) {
  Segment s;
  s.trace_id = ctx.trace_id;
  s.id = ctx.segment_id;
  s.parent_id = ctx.parent_id;
  s.name = std::move(name);
  s.origin = std::move(origin);
  s.start_time = start_time;
  s.sampled = ctx.sampled;
  return s;
}

Segment NewSubsegment(std::string name, std::string namespace_, double start_time) {
  Segment s;
  s.id = NewSegmentId();
  s.name = std::move(name);
  s.namespace_ = std::move(namespace_);
  s.start_time = start_time;
  return s;
}

void SetHttpStatus(Segment& segment, int status) {
  if (!segment.http_response) segment.http_response = HttpResponseInfo{};
  segment.http_response->status = status;
  if (status >= 400 && status < 500) segment.error = true;
  if (status == 429) segment.throttle = true;
  if (status >= 500) segment.fault = true;
}

bool Annotate(Segment& segment, std::string_view key, Json value) {
  if (!IsAnnotationKey(key) || !IsScalar(value)) return false;
  if (!segment.annotations.is_object()) segment.annotations = Json::object();
  std::string k(key);
  if (!segment.annotations.contains(k) && segment.annotations.size() >= kMaxAnnotations) {
    return false;
  }
  segment.annotations[k] = std::move(value);
  return true;
}

Json ToSegmentDocument(const Segment& segment) { return DocumentOf(segment); }

std::string SegmentDocumentJson(const Segment& segment) { return DumpJson(DocumentOf(segment)); }

Result<Segment> ParseSegmentDocument(std::string_view json) {
  if (json.size() > kMaxSegmentDocumentBytes) {
    return Invalid("a segment document may be at most 64 kB");
  }
  Json doc = ParseJsonOrDiscarded(json);
  if (doc.is_discarded()) return Invalid("the segment document is not valid JSON");
  return SegmentOf(doc, /*nested=*/false, 0);
}

}  // namespace stratus::trace
