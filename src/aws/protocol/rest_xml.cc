// The rest-xml protocol (S3, CloudFront): rest bindings as rest-json, XML bodies, and S3-style
// <Error> or <ErrorResponse> errors.
#include "aws/protocol/internal.h"
#include "aws/protocol/protocols.h"
#include "aws/protocol/rest.h"
#include "core/strings.h"

namespace stratus::aws {
namespace {

constexpr std::string_view kXmlDeclaration = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

// Binding errors are SerializationException in the shared code; rest-xml services call them
// InvalidArgument.
Error AsXmlError(Error e) {
  if (e.code == "SerializationException") e.code = "InvalidArgument";
  return e;
}

class RestXmlCodec final : public Codec {
 public:
  explicit RestXmlCodec(const ServiceModel& model)
      : model_(model), routes_(model), s3_(model.metadata().service_id == "S3") {
    const Metadata& md = model.metadata();
    xmlns_ = !md.xml_namespace.empty() ? md.xml_namespace
                                       : "http://" + (md.endpoint_prefix.empty() ? std::string("s3") : md.endpoint_prefix) +
                                             ".amazonaws.com/doc/" + md.api_version + "/";
  }

  Protocol protocol() const override { return Protocol::kRestXml; }

  Result<const Operation*> Resolve(const HttpRequest& request) const override {
    auto segments = internal::SplitPath(request.path);
    auto query = ParseQuery(request.query, true);
    const internal::Route* r = routes_.Match(request.method, segments, query, request.headers);
    if (r == nullptr) {
      if (s3_) {
        return Error("MethodNotAllowed", "The specified method is not allowed against this resource.", 405);
      }
      return Error("UnknownOperationException",
                   "No operation matches " + request.method + " " + request.path, 404);
    }
    return r->operation;
  }

  Result<DecodedRequest> Decode(const Operation& operation, HttpRequest& request) const override {
    auto decoded = DecodeImpl(operation, request);
    if (!decoded.ok()) return AsXmlError(std::move(decoded).error());
    return decoded;
  }

  HttpResponse Encode(const Operation& operation, OperationOutput output,
                      const ResponseMeta& meta) const override {
    HttpResponse r;
    r.status = operation.response_code;
    AddIds(r, meta);
    const Shape* shape = operation.output;
    if (shape != nullptr) internal::EncodeBindings(*shape, output.body, r);
    if (output.status != 0) r.status = output.status;
    for (const auto& [k, v] : output.headers) r.headers.Set(k, v);
    const Member* p = shape != nullptr ? shape->PayloadMember() : nullptr;
    std::string_view content_type = "application/xml";
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
          if (present) {
            r.body.append(kXmlDeclaration);
            internal::XmlWriter w(r.body);
            const Shape& ps = *p->shape;
            std::string name = !p->location_name.empty() ? p->location_name
                               : !ps.location_name.empty() ? ps.location_name : ps.name;
            std::string attrs = RootNamespace(ps, p) + internal::XmlAttributes(ps, *it);
            w.Open(name, attrs);
            internal::WriteXmlMembers(w, ps, *it, false);
            w.Close(name);
          }
      }
    } else if (shape != nullptr && internal::HasResponseBodyMembers(*shape)) {
      r.body.append(kXmlDeclaration);
      internal::XmlWriter w(r.body);
      std::string name = !shape->location_name.empty() ? shape->location_name : operation.name + "Result";
      w.Open(name, RootNamespace(*shape, nullptr) + internal::XmlAttributes(*shape, output.body));
      if (const Member* only = SoleScalarNamedLike(*shape, name)) {
        // S3's GetBucketLocation: the root element is the member (<LocationConstraint>eu-west-1<).
        auto it = output.body.find(only->name);
        if (it != output.body.end()) {
          w.Text(internal::ScalarToText(*only->shape, *it, internal::TimestampFormatOf(*only, internal::TsFormat::kIso8601)));
        }
      } else {
        internal::WriteXmlMembers(w, *shape, output.body, true);
      }
      w.Close(name);
    }
    if (!r.headers.Has("Content-Type") && (!r.body.empty() || r.file)) {
      r.headers.Add("Content-Type", std::string(content_type));
    }
    internal::DropBodyWhereHttpForbidsIt(operation, r);
    return r;
  }

  HttpResponse EncodeError(const Operation* operation, const Error& error,
                           const ResponseMeta& meta) const override {
    const Shape* shape = model_.FindErrorShape(error.code);
    HttpResponse r;
    r.status = shape != nullptr && shape->error_http_status != 0 ? shape->error_http_status
                                                                  : error.http_status;
    AddIds(r, meta);
    if (shape != nullptr) internal::EncodeBindings(*shape, error.fields, r);
    for (const auto& [k, v] : error.headers) r.headers.Add(k, v);
    // A HEAD response has no body: the client reads the status alone.
    if (operation != nullptr && operation->http_method == "HEAD") return r;
    r.headers.Add("Content-Type", "application/xml");
    std::string code = shape != nullptr && !shape->error_code.empty() ? shape->error_code : error.code;
    internal::XmlWriter w(r.body);
    r.body.append(kXmlDeclaration);
    if (!s3_) {
      w.Open("ErrorResponse", " xmlns=\"" + xmlns_ + "\"");
    }
    w.Open("Error");
    if (!s3_) {
      bool sender = shape != nullptr ? !shape->fault && error.sender_fault : error.sender_fault;
      w.Element("Type", sender ? "Sender" : "Receiver");
    }
    w.Element("Code", code);
    bool has_message = error.fields.is_object() &&
                       (error.fields.contains("Message") || error.fields.contains("message"));
    if (!has_message) w.Element("Message", error.message);
    if (shape != nullptr) internal::WriteXmlMembers(w, *shape, error.fields, true);
    internal::WriteUnmodelledXmlFields(w, shape, error.fields);
    if (s3_) {
      w.Element("RequestId", meta.request_id);
      w.Element("HostId", meta.host_id);
      w.Close("Error");
    } else {
      w.Close("Error");
      w.Element("RequestId", meta.request_id);
      w.Close("ErrorResponse");
    }
    return r;
  }

 private:
  Result<DecodedRequest> DecodeImpl(const Operation& operation, HttpRequest& request) const {
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
            if (!IsValidUtf8(request.body)) return internal::MalformedXml("");
            out.input[p->name] = std::move(request.body);
          }
          return out;
        default: {
          if (Trim(request.body).empty()) return out;
          if (p->shape->type != ShapeType::kStructure) return out;
          STRATUS_ASSIGN_OR_RETURN(Json v, internal::ParseXmlStructure(*p->shape, request.body));
          out.input[p->name] = std::move(v);
          return out;
        }
      }
    }
    if (!internal::HasBodyMembers(input) || Trim(request.body).empty()) return out;
    STRATUS_ASSIGN_OR_RETURN(Json body, internal::ParseXmlStructure(input, request.body));
    for (auto& [k, v] : body.items()) out.input[k] = std::move(v);
    return out;
  }

  // The one body member of `shape`, when it is a scalar wearing the root element's name.
  static const Member* SoleScalarNamedLike(const Shape& shape, const std::string& root) {
    const Member* found = nullptr;
    for (const Member& m : shape.members) {
      if (internal::IsResponseBound(m)) continue;
      if (found != nullptr) return nullptr;
      found = &m;
    }
    if (found == nullptr || !internal::IsScalar(found->shape->type) || found->WireName() != root) return nullptr;
    return found;
  }

  std::string RootNamespace(const Shape& shape, const Member* member) const {
    if (member != nullptr && member->xml_namespace_uri) {
      return internal::XmlNamespaceAttr(member->xml_namespace_uri, member->xml_namespace_prefix);
    }
    if (shape.xml_namespace_uri) {
      return internal::XmlNamespaceAttr(shape.xml_namespace_uri, shape.xml_namespace_prefix);
    }
    return s3_ ? " xmlns=\"" + xmlns_ + "\"" : std::string();
  }

  void AddIds(HttpResponse& r, const ResponseMeta& meta) const {
    if (s3_) {
      if (!meta.request_id.empty()) r.headers.Add("x-amz-request-id", meta.request_id);
      if (!meta.host_id.empty()) r.headers.Add("x-amz-id-2", meta.host_id);
    } else {
      internal::AddRequestIdHeader(r, meta);
    }
  }

  const ServiceModel& model_;
  internal::RouteTable routes_;
  bool s3_;
  std::string xmlns_;
};

}  // namespace

std::unique_ptr<Codec> MakeRestXmlCodec(const ServiceModel& model) {
  return std::make_unique<RestXmlCodec>(model);
}

}  // namespace stratus::aws
