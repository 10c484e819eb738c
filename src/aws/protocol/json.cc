// The json 1.0/1.1 protocol: POST /, X-Amz-Target "Prefix.Operation", JSON bodies, "__type" errors.
#include <unordered_map>

#include "aws/protocol/internal.h"
#include "aws/protocol/protocols.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

using internal::SerializationError;

class JsonCodec final : public Codec {
 public:
  explicit JsonCodec(const ServiceModel& model) : model_(model) {
    empty_.type = ShapeType::kStructure;
    content_type_ = "application/x-amz-json-" +
                    (model.metadata().json_version.empty() ? std::string("1.0")
                                                           : model.metadata().json_version);
    for (const auto& op : model.operations()) by_target_.emplace(op->name, op.get());
  }

  Protocol protocol() const override { return Protocol::kJson; }

  Result<const Operation*> Resolve(const HttpRequest& request) const override {
    std::string_view target = request.headers.GetOr("x-amz-target");
    if (target.empty()) {
      return Error("UnknownOperationException", "Missing X-Amz-Target header", 400);
    }
    size_t dot = target.rfind('.');
    std::string_view prefix = dot == std::string_view::npos ? std::string_view() : target.substr(0, dot);
    std::string_view name = dot == std::string_view::npos ? target : target.substr(dot + 1);
    const std::string& want = model_.metadata().target_prefix;
    if (!want.empty() && prefix != want) return Unknown(target);
    auto it = by_target_.find(name);
    if (it == by_target_.end()) return Unknown(target);
    return it->second;
  }

  Result<DecodedRequest> Decode(const Operation& operation, HttpRequest& request) const override {
    DecodedRequest out;
    out.operation = &operation;
    std::string_view body = Trim(request.body);
    if (body.empty()) return out;
    const Shape& shape = operation.input != nullptr ? *operation.input : empty_;
    Member top;
    top.shape = &shape;
    STRATUS_ASSIGN_OR_RETURN(Json input, internal::ParseJsonAs(top, body));
    if (!input.is_object()) return SerializationError("Start of structure or map expected");
    if (operation.input != nullptr) out.input = std::move(input);
    return out;
  }

  HttpResponse Encode(const Operation& operation, OperationOutput output,
                      const ResponseMeta& meta) const override {
    HttpResponse r;
    r.status = output.status != 0 ? output.status : 200;
    r.headers.Add("Content-Type", content_type_);
    internal::AddRequestIdHeader(r, meta);
    for (const auto& [k, v] : output.headers) r.headers.Add(k, v);
    if (operation.output != nullptr) {
      r.body.reserve(256);
      internal::WriteJsonStructure(r.body, *operation.output, output.body, false);
    } else {
      r.body = "{}";
    }
    return r;
  }

  HttpResponse EncodeError(const Operation* operation, const Error& error,
                           const ResponseMeta& meta) const override {
    return EncodeJsonError(model_, content_type_, error, meta, /*rest=*/false);
  }

 private:
  static Error Unknown(std::string_view target) {
    return Error("UnknownOperationException",
                 "Operation " + std::string(target) + " is not supported.", 400);
  }

  const ServiceModel& model_;
  Shape empty_;  // the input of operations without one: a structure with no members
  std::string content_type_;
  std::unordered_map<std::string_view, const Operation*> by_target_;  // views into model_
};

}  // namespace

HttpResponse EncodeJsonError(const ServiceModel& model, const std::string& content_type,
                             const Error& error, const ResponseMeta& meta, bool rest) {
  const Shape* shape = model.FindErrorShape(error.code);
  std::string type = shape != nullptr ? shape->name : error.code;
  HttpResponse r;
  r.status = shape != nullptr && shape->error_http_status != 0 ? shape->error_http_status
                                                                : error.http_status;
  r.headers.Add("Content-Type", content_type);
  internal::AddRequestIdHeader(r, meta);
  if (rest) r.headers.Add("x-amzn-ErrorType", type);
  if (model.metadata().aws_query_compatible) {
    std::string query_code = shape != nullptr && !shape->error_code.empty() ? shape->error_code
                                                                          : error.code;
    bool sender = shape != nullptr ? !shape->fault && error.sender_fault : error.sender_fault;
    r.headers.Add("x-amzn-query-error", query_code + (sender ? ";Sender" : ";Receiver"));
  }
  for (const auto& [k, v] : error.headers) r.headers.Add(k, v);
  std::string& b = r.body;
  b = "{\"__type\":";
  internal::WriteJsonString(b, type);
  bool has_message = false;
  if (shape != nullptr) {
    for (const Member& m : shape->members) {
      auto it = error.fields.find(m.name);
      if (it == error.fields.end() || it->is_null()) continue;
      if (m.location != Location::kBody) {
        if (rest && m.location == Location::kHeader) {
          r.headers.Add(m.WireName(), internal::ScalarToText(*m.shape, *it, internal::TsFormat::kHttpDate));
        }
        continue;
      }
      if (IEquals(m.name, "message")) has_message = true;
      b.push_back(',');
      internal::WriteJsonString(b, m.WireName());
      b.push_back(':');
      internal::WriteJson(b, m, *it);
    }
  }
  if (error.fields.is_object()) {
    for (const auto& [k, v] : error.fields.items()) {
      if (v.is_null() || (shape != nullptr && shape->FindMember(k) != nullptr)) continue;
      if (IEquals(k, "message")) has_message = true;
      b.push_back(',');
      internal::WriteJsonString(b, k);
      b.push_back(':');
      b.append(DumpJson(v));
    }
  }
  if (!has_message && !error.message.empty()) {
    b.append(",\"message\":");
    internal::WriteJsonString(b, error.message);
  }
  b.push_back('}');
  return r;
}

std::unique_ptr<Codec> MakeJsonCodec(const ServiceModel& model) {
  return std::make_unique<JsonCodec>(model);
}

}  // namespace stratus::aws
