// The rest-json protocol: operations routed by method and path, members bound to the uri,
// query string and headers, the rest in a JSON body; errors named by x-amzn-ErrorType.
#include "aws/protocol/internal.h"
#include "aws/protocol/protocols.h"
#include "aws/protocol/rest.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

using internal::SerializationError;

class RestJsonCodec final : public Codec {
 public:
  explicit RestJsonCodec(const ServiceModel& model) : model_(model), routes_(model) {}

  Protocol protocol() const override { return Protocol::kRestJson; }

  Result<const Operation*> Resolve(const HttpRequest& request) const override {
    auto segments = internal::SplitPath(request.path);
    auto query = ParseQuery(request.query, true);
    const internal::Route* r = routes_.Match(request.method, segments, query, request.headers);
    if (r == nullptr) {
      return Error("UnknownOperationException",
                   "No operation matches " + request.method + " " + request.path, 404);
    }
    return r->operation;
  }

  Result<DecodedRequest> Decode(const Operation& operation, HttpRequest& request) const override {
    DecodedRequest out;
    out.operation = &operation;
    if (operation.input == nullptr) return out;
    const Shape& input = *operation.input;
    const internal::Route* route = routes_.ForOperation(operation);
    auto segments = internal::SplitPath(request.path);
    auto query = ParseQuery(request.query, true);
    if (route != nullptr) {
      STRATUS_RETURN_IF_ERROR(internal::DecodeBindings(input, *route, segments, EndsWith(request.path, "/"), query,
                                                       request.headers, out.input));
    }
    if (const Member* p = input.PayloadMember()) {
      switch (p->shape->type) {
        case ShapeType::kBlob:
          out.payload = std::move(request.body);
          out.payload_member = p->name;
          return out;
        case ShapeType::kString:
          if (!request.body.empty()) {
            if (!IsValidUtf8(request.body)) return SerializationError("Body is not valid UTF-8");
            out.input[p->name] = std::move(request.body);
          }
          return out;
        default: {
          if (Trim(request.body).empty()) return out;
          STRATUS_ASSIGN_OR_RETURN(Json v, internal::ParseJsonAs(*p, request.body));
          // SDKs send "{}" for an unset structure payload: treat it as absent.
          if (v.is_object() && v.empty() && !p->shape->document) return out;
          out.input[p->name] = std::move(v);
          return out;
        }
      }
    }
    if (!internal::HasBodyMembers(input) || Trim(request.body).empty()) return out;
    Member top;
    top.shape = &input;
    STRATUS_ASSIGN_OR_RETURN(Json body, internal::ParseJsonAs(top, request.body));
    if (!body.is_object()) return SerializationError("Start of structure or map expected");
    for (auto& [k, v] : body.items()) {
      const Member* m = input.FindMember(k);
      if (m != nullptr && m->location == Location::kBody) out.input[k] = std::move(v);
    }
    return out;
  }

  HttpResponse Encode(const Operation& operation, OperationOutput output,
                      const ResponseMeta& meta) const override {
    HttpResponse r;
    r.status = operation.response_code;
    internal::AddRequestIdHeader(r, meta);
    const Shape* shape = operation.output;
    if (shape != nullptr) internal::EncodeBindings(*shape, output.body, r);
    if (output.status != 0) r.status = output.status;
    for (const auto& [k, v] : output.headers) r.headers.Set(k, v);
    const Member* p = shape != nullptr ? shape->PayloadMember() : nullptr;
    std::string_view content_type = "application/json";
    if (p != nullptr) {
      auto it = output.body.find(p->name);
      bool present = it != output.body.end() && !it->is_null();
      switch (p->shape->type) {
        case ShapeType::kBlob:
          content_type = "application/octet-stream";
          if (output.payload_file) {
            r.file = std::move(output.payload_file);
          } else if (output.payload) {
            r.body = std::move(*output.payload);
          } else if (present && it->is_string()) {
            r.body = Base64Decode(it->get_ref<const std::string&>()).value_or("");
          }
          break;
        case ShapeType::kString:
          content_type = "text/plain";
          if (present && it->is_string()) r.body = it->get<std::string>();
          break;
        default:
          if (present) internal::WriteJson(r.body, *p, *it);
      }
    } else if (shape != nullptr && internal::HasResponseBodyMembers(*shape)) {
      internal::WriteJsonStructure(r.body, *shape, output.body, true);
    } else {
      r.body = "{}";
    }
    if (!r.headers.Has("Content-Type")) r.headers.Add("Content-Type", std::string(content_type));
    internal::DropBodyWhereHttpForbidsIt(operation, r);
    return r;
  }

  HttpResponse EncodeError(const Operation* operation, const Error& error,
                           const ResponseMeta& meta) const override {
    return EncodeJsonError(model_, "application/json", error, meta, /*rest=*/true);
  }

 private:
  const ServiceModel& model_;
  internal::RouteTable routes_;
};

}  // namespace

std::unique_ptr<Codec> MakeRestJsonCodec(const ServiceModel& model) {
  return std::make_unique<RestJsonCodec>(model);
}

}  // namespace stratus::aws
