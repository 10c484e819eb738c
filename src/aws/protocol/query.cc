// The query protocol: form-encoded (or query-string) requests naming an Action, XML responses
// wrapped in <XResponse><XResult>, <ErrorResponse> errors.
#include <algorithm>
#include <unordered_map>

#include "aws/protocol/internal.h"
#include "aws/protocol/protocols.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;  // sorted by name

// AWS's common errors document MalformedQueryString with HTTP 404 (sic).
constexpr int kMalformedQueryStatus = 404;

Error InvalidParameter(const std::string& name, std::string_view value) {
  return Error("InvalidParameterValue",
               "Value (" + std::string(value.substr(0, 256)) + ") for parameter " + name +
                   " is invalid.",
               400);
}

const std::string* Find(const Params& params, std::string_view key) {
  auto it = std::lower_bound(params.begin(), params.end(), key,
                             [](const auto& p, std::string_view k) { return p.first < k; });
  if (it == params.end() || it->first != key) return nullptr;
  return &it->second;
}

bool HasPrefix(const Params& params, const std::string& prefix) {
  auto it = std::lower_bound(params.begin(), params.end(), prefix,
                             [](const auto& p, const std::string& k) { return p.first < k; });
  return it != params.end() && StartsWith(it->first, prefix);
}

// The distinct indices N of keys "<prefix>.N" or "<prefix>.N.<rest>", in ascending order.
std::vector<int64_t> Indices(const Params& params, const std::string& prefix) {
  std::vector<int64_t> out;
  std::string dotted = prefix + ".";
  auto it = std::lower_bound(params.begin(), params.end(), dotted,
                             [](const auto& p, const std::string& k) { return p.first < k; });
  for (; it != params.end() && StartsWith(it->first, dotted); ++it) {
    std::string_view rest = std::string_view(it->first).substr(dotted.size());
    size_t end = rest.find('.');
    auto n = ParseInt64(rest.substr(0, end));
    if (n && *n > 0) out.push_back(*n);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::string Join(const std::string& prefix, std::string_view name) {
  if (prefix.empty()) return std::string(name);
  std::string out;
  out.reserve(prefix.size() + 1 + name.size());
  out.append(prefix).push_back('.');
  out.append(name);
  return out;
}

const std::string& NameOr(const Member& m, const std::string& fallback) {
  return m.location_name.empty() ? fallback : m.location_name;
}

const std::string kMember = "member";
const std::string kKey = "key";
const std::string kValue = "value";

// Decodes `member` found at `prefix`; nullopt when nothing is there.
Result<std::optional<Json>> DecodeAt(const Params& params, const Member& member,
                                     const std::string& prefix, int depth);

Result<std::optional<Json>> DecodeStructure(const Params& params, const Shape& shape,
                                            const std::string& prefix, int depth) {
  if (!prefix.empty() && !HasPrefix(params, prefix + ".")) {
    return std::optional<Json>();
  }
  Json out = Json::object();
  for (const Member& m : shape.members) {
    STRATUS_ASSIGN_OR_RETURN(auto v, DecodeAt(params, m, Join(prefix, m.WireName()), depth + 1));
    if (v) out[m.name] = std::move(*v);
  }
  return std::optional<Json>(std::move(out));
}

Result<std::optional<Json>> DecodeAt(const Params& params, const Member& member,
                                     const std::string& prefix, int depth) {
  if (depth > internal::kMaxNestingDepth) {
    return Error("MalformedQueryString", "The request is nested too deeply", kMalformedQueryStatus);
  }
  const Shape& shape = *member.shape;
  switch (shape.type) {
    case ShapeType::kStructure: return DecodeStructure(params, shape, prefix, depth);
    case ShapeType::kList: {
      const Member& item = *shape.list_member;
      std::string base = prefix;
      if (!(member.flattened || shape.flattened)) base = Join(prefix, NameOr(item, kMember));
      auto indices = Indices(params, base);
      if (indices.empty() && (member.flattened || shape.flattened) && !item.location_name.empty()) {
        // Older SDKs name flattened items after the list's member ("Attribute.1" for a member
        // whose list member is named "Attribute").
        size_t dot = prefix.rfind('.');
        base = (dot == std::string::npos ? std::string() : prefix.substr(0, dot + 1)) + item.location_name;
        indices = Indices(params, base);
      }
      if (indices.empty()) {
        const std::string* empty = Find(params, prefix);
        if (empty != nullptr && empty->empty()) return std::optional<Json>(Json::array());
        return std::optional<Json>();
      }
      Json out = Json::array();
      for (int64_t n : indices) {
        STRATUS_ASSIGN_OR_RETURN(auto v, DecodeAt(params, item, Join(base, std::to_string(n)), depth + 1));
        if (v) out.push_back(std::move(*v));
      }
      return std::optional<Json>(std::move(out));
    }
    case ShapeType::kMap: {
      std::string base = member.flattened || shape.flattened ? prefix : Join(prefix, "entry");
      auto indices = Indices(params, base);
      if (indices.empty()) {
        const std::string* empty = Find(params, prefix);
        if (empty != nullptr && empty->empty()) return std::optional<Json>(Json::object());
        return std::optional<Json>();
      }
      Json out = Json::object();
      for (int64_t n : indices) {
        std::string entry = Join(base, std::to_string(n));
        const std::string* key = Find(params, Join(entry, NameOr(*shape.map_key, kKey)));
        if (key == nullptr) continue;
        STRATUS_ASSIGN_OR_RETURN(auto v, DecodeAt(params, *shape.map_value,
                                                  Join(entry, NameOr(*shape.map_value, kValue)), depth + 1));
        if (v) out[*key] = std::move(*v);
      }
      return std::optional<Json>(std::move(out));
    }
    default: {
      const std::string* text = Find(params, prefix);
      if (text == nullptr) return std::optional<Json>();
      auto v = internal::ScalarFromText(shape, *text, internal::TimestampFormatOf(member, internal::TsFormat::kIso8601));
      if (!v) return InvalidParameter(prefix, *text);
      return std::optional<Json>(std::move(*v));
    }
  }
}

// Splits a form/query string into decoded pairs; nullopt on invalid UTF-8 after decoding.
std::optional<Params> ParseForm(std::string_view a, std::string_view b) {
  Params out;
  for (std::string_view text : {a, b}) {
    for (auto& kv : ParseQuery(text, /*plus_as_space=*/true)) {
      if (!IsValidUtf8(kv.first) || !IsValidUtf8(kv.second)) return std::nullopt;
      out.push_back(std::move(kv));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  return out;
}

// The decoded value of `name` in a form, without decoding the rest.
std::optional<std::string> FormValue(std::string_view form, std::string_view name) {
  size_t pos = 0;
  while (pos <= form.size()) {
    size_t amp = form.find('&', pos);
    std::string_view pair = form.substr(pos, amp == std::string_view::npos ? std::string_view::npos : amp - pos);
    size_t eq = pair.find('=');
    if (pair.substr(0, eq) == name) {
      return UrlDecode(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1), true);
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  return std::nullopt;
}

class QueryCodec final : public Codec {
 public:
  explicit QueryCodec(const ServiceModel& model) : model_(model) {
    for (const auto& op : model.operations()) by_action_.emplace(op->name, op.get());
    const Metadata& md = model.metadata();
    xmlns_ = md.xml_namespace.empty()
                 ? "https://" + md.endpoint_prefix + ".amazonaws.com/doc/" + md.api_version + "/"
                 : md.xml_namespace;
  }

  Protocol protocol() const override { return Protocol::kQuery; }

  Result<const Operation*> Resolve(const HttpRequest& request) const override {
    auto action = FormValue(request.body, "Action");
    if (!action) action = FormValue(request.query, "Action");
    if (!action || action->empty()) {
      return Error("MissingAction", "Could not find operation to perform: missing Action parameter", 400);
    }
    auto it = by_action_.find(*action);
    if (it == by_action_.end()) {
      return Error("InvalidAction", "The action " + *action + " is not valid for this web service.", 400);
    }
    return it->second;
  }

  Result<DecodedRequest> Decode(const Operation& operation, HttpRequest& request) const override {
    DecodedRequest out;
    out.operation = &operation;
    auto params = ParseForm(request.query, request.body);
    if (!params) {
      return Error("MalformedQueryString", "The query string is not valid UTF-8.", kMalformedQueryStatus);
    }
    if (operation.input == nullptr) return out;
    STRATUS_ASSIGN_OR_RETURN(auto input, DecodeStructure(*params, *operation.input, "", 0));
    if (input) out.input = std::move(*input);
    return out;
  }

  HttpResponse Encode(const Operation& operation, OperationOutput output,
                      const ResponseMeta& meta) const override {
    HttpResponse r;
    r.status = output.status != 0 ? output.status : 200;
    r.headers.Add("Content-Type", "text/xml");
    internal::AddRequestIdHeader(r, meta);
    for (const auto& [k, v] : output.headers) r.headers.Add(k, v);
    std::string root = operation.name + "Response";
    internal::XmlWriter w(r.body);
    r.body.reserve(512);
    w.Open(root, " xmlns=\"" + xmlns_ + "\"");
    if (operation.output != nullptr) {
      if (!operation.result_wrapper.empty()) w.Open(operation.result_wrapper);
      internal::WriteXmlMembers(w, *operation.output, output.body, false);
      if (!operation.result_wrapper.empty()) w.Close(operation.result_wrapper);
    }
    w.Open("ResponseMetadata");
    w.Element("RequestId", meta.request_id);
    w.Close("ResponseMetadata");
    w.Close(root);
    return r;
  }

  HttpResponse EncodeError(const Operation* operation, const Error& error,
                           const ResponseMeta& meta) const override {
    const Shape* shape = model_.FindErrorShape(error.code);
    HttpResponse r;
    r.status = shape != nullptr && shape->error_http_status != 0 ? shape->error_http_status
                                                                  : error.http_status;
    r.headers.Add("Content-Type", "text/xml");
    internal::AddRequestIdHeader(r, meta);
    for (const auto& [k, v] : error.headers) r.headers.Add(k, v);
    std::string code = shape != nullptr && !shape->error_code.empty() ? shape->error_code : error.code;
    bool sender = shape != nullptr ? !shape->fault && error.sender_fault : error.sender_fault;
    internal::XmlWriter w(r.body);
    w.Open("ErrorResponse", " xmlns=\"" + xmlns_ + "\"");
    w.Open("Error");
    w.Element("Type", sender ? "Sender" : "Receiver");
    w.Element("Code", code);
    bool has_message = false;
    if (shape != nullptr) {
      for (const Member& m : shape->members) {
        if (IEquals(m.name, "message") && error.fields.contains(m.name)) has_message = true;
      }
    }
    if (!has_message && !error.message.empty()) w.Element("Message", error.message);
    if (shape != nullptr) internal::WriteXmlMembers(w, *shape, error.fields, false);
    internal::WriteUnmodelledXmlFields(w, shape, error.fields);
    w.Close("Error");
    w.Element("RequestId", meta.request_id);
    w.Close("ErrorResponse");
    return r;
  }

 private:
  const ServiceModel& model_;
  std::string xmlns_;
  std::unordered_map<std::string_view, const Operation*> by_action_;  // views into model_
};

}  // namespace

std::unique_ptr<Codec> MakeQueryCodec(const ServiceModel& model) {
  return std::make_unique<QueryCodec>(model);
}

}  // namespace stratus::aws
