// Builds the typed model (model.h) from a service-2.json document.
#include "aws/model/model.h"

#include <exception>

namespace stratus::aws {

std::string_view ProtocolName(Protocol p) {
  switch (p) {
    case Protocol::kQuery: return "query";
    case Protocol::kJson: return "json";
    case Protocol::kRestJson: return "rest-json";
    case Protocol::kRestXml: return "rest-xml";
    case Protocol::kEc2: return "ec2";
  }
  return "unknown";
}

std::optional<Protocol> ParseProtocol(std::string_view name) {
  if (name == "query") return Protocol::kQuery;
  if (name == "json") return Protocol::kJson;
  if (name == "rest-json") return Protocol::kRestJson;
  if (name == "rest-xml") return Protocol::kRestXml;
  if (name == "ec2") return Protocol::kEc2;
  return std::nullopt;
}

const std::string& Member::EffectiveTimestampFormat() const {
  if (!timestamp_format.empty() || shape == nullptr) return timestamp_format;
  return shape->timestamp_format;
}

const Member* Shape::FindMember(std::string_view member_name) const {
  for (const Member& m : members) {
    if (m.name == member_name) return &m;
  }
  return nullptr;
}

const Member* Shape::PayloadMember() const { return payload.empty() ? nullptr : FindMember(payload); }

bool Shape::IsRequired(std::string_view member_name) const {
  for (const std::string& r : required) {
    if (r == member_name) return true;
  }
  return false;
}

const Operation* ServiceModel::FindOperation(std::string_view name) const {
  auto it = operations_by_name_.find(std::string(name));
  return it == operations_by_name_.end() ? nullptr : it->second;
}

const Shape* ServiceModel::FindShape(std::string_view name) const {
  auto it = shapes_.find(std::string(name));
  return it == shapes_.end() ? nullptr : it->second.get();
}

const Shape* ServiceModel::FindErrorShape(std::string_view code) const {
  auto it = errors_by_code_.find(std::string(code));
  return it == errors_by_code_.end() ? nullptr : it->second;
}

namespace {

Error ModelError(std::string message) {
  return Error("InvalidModel", std::move(message), 500, false);
}

std::optional<ShapeType> ParseShapeType(std::string_view t) {
  static const std::pair<std::string_view, ShapeType> kTypes[] = {
      {"structure", ShapeType::kStructure}, {"list", ShapeType::kList},
      {"map", ShapeType::kMap},             {"string", ShapeType::kString},
      {"integer", ShapeType::kInteger},     {"long", ShapeType::kLong},
      {"float", ShapeType::kFloat},         {"double", ShapeType::kDouble},
      {"boolean", ShapeType::kBoolean},     {"timestamp", ShapeType::kTimestamp},
      {"blob", ShapeType::kBlob},           {"bigdecimal", ShapeType::kBigDecimal},
      {"byte", ShapeType::kByte},           {"short", ShapeType::kShort},
      {"biginteger", ShapeType::kLong},     {"character", ShapeType::kString},
  };
  for (const auto& [name, type] : kTypes) {
    if (name == t) return type;
  }
  return std::nullopt;
}

std::string StringOr(const Json& j, const char* key, std::string fallback = {}) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_string()) return fallback;
  return it->get<std::string>();
}

bool BoolOr(const Json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

// xmlNamespace is either "uri" or {"uri": ..., "prefix": ...}.
void ParseXmlNamespace(const Json& j, std::optional<std::string>& uri,
                       std::optional<std::string>& prefix) {
  auto it = j.find("xmlNamespace");
  if (it == j.end()) return;
  if (it->is_string()) {
    uri = it->get<std::string>();
  } else if (it->is_object()) {
    if (it->contains("uri")) uri = StringOr(*it, "uri");
    if (it->contains("prefix")) prefix = StringOr(*it, "prefix");
  }
}

}  // namespace

// Fills a ServiceModel from JSON. Shapes are created first so that members can point at shapes
// defined later (and recursive shapes at themselves).
class ModelBuilder {
 public:
  explicit ModelBuilder(ServiceModel& model) : model_(model) {}

  Status Metadata(const Json& md) {
    if (!md.is_object()) return ModelError("metadata must be an object");
    auto& m = model_.metadata_;
    std::string protocol = StringOr(md, "protocol");
    auto protocols = md.find("protocols");
    if (protocols != md.end() && protocols->is_array()) {
      for (const Json& p : *protocols) {
        if (auto parsed = p.is_string() ? ParseProtocol(p.get<std::string>()) : std::nullopt) {
          m.protocols.push_back(*parsed);
        }
      }
    }
    auto parsed = ParseProtocol(protocol);
    if (!parsed) return ModelError("unknown protocol '" + protocol + "'");
    m.protocol = *parsed;
    if (m.protocols.empty()) m.protocols.push_back(m.protocol);
    m.api_version = StringOr(md, "apiVersion");
    m.json_version = StringOr(md, "jsonVersion", "1.0");
    m.target_prefix = StringOr(md, "targetPrefix");
    m.endpoint_prefix = StringOr(md, "endpointPrefix");
    m.signing_name = StringOr(md, "signingName", m.endpoint_prefix);
    m.service_id = StringOr(md, "serviceId");
    m.xml_namespace = StringOr(md, "xmlNamespace");
    m.timestamp_format = StringOr(md, "timestampFormat");
    m.aws_query_compatible = md.contains("awsQueryCompatible");
    return Status::Ok();
  }

  Status Shapes(const Json& shapes) {
    if (!shapes.is_object()) return ModelError("shapes must be an object");
    for (const auto& [name, def] : shapes.items()) {
      auto shape = std::make_unique<Shape>();
      shape->name = name;
      model_.shapes_[name] = std::move(shape);
    }
    for (const auto& [name, def] : shapes.items()) {
      STRATUS_RETURN_IF_ERROR(FillShape(*model_.shapes_[name], def));
    }
    return Status::Ok();
  }

  Status AddOperation(const Json& def) {
    if (!def.is_object()) return ModelError("operation must be an object");
    auto op = std::make_unique<Operation>();
    op->name = StringOr(def, "name");
    if (op->name.empty()) return ModelError("operation without a name");
    if (auto http = def.find("http"); http != def.end() && http->is_object()) {
      op->http_method = StringOr(*http, "method", "POST");
      op->request_uri = StringOr(*http, "requestUri", "/");
      if (auto rc = http->find("responseCode"); rc != http->end() && rc->is_number_integer()) {
        op->response_code = rc->get<int>();
      }
    }
    if (auto in = def.find("input"); in != def.end() && in->is_object()) {
      STRATUS_ASSIGN_OR_RETURN(op->input, Ref(StringOr(*in, "shape"), op->name));
      if (in->contains("locationName")) op->input_xml_root = StringOr(*in, "locationName");
      std::optional<std::string> prefix;
      ParseXmlNamespace(*in, op->input_xml_namespace, prefix);
    }
    if (auto out = def.find("output"); out != def.end() && out->is_object()) {
      STRATUS_ASSIGN_OR_RETURN(op->output, Ref(StringOr(*out, "shape"), op->name));
      op->result_wrapper = StringOr(*out, "resultWrapper");
    }
    if (auto errors = def.find("errors"); errors != def.end() && errors->is_array()) {
      for (const Json& e : *errors) {
        STRATUS_ASSIGN_OR_RETURN(const Shape* shape, Ref(StringOr(e, "shape"), op->name));
        op->errors.push_back(shape);
      }
    }
    op->auth_none = StringOr(def, "authtype") == "none";
    op->deprecated = BoolOr(def, "deprecated");
    if (auto ep = def.find("endpoint"); ep != def.end() && ep->is_object()) {
      op->host_prefix = StringOr(*ep, "hostPrefix");
    }
    op->http_checksum_required = BoolOr(def, "httpChecksumRequired");
    if (auto hc = def.find("httpChecksum"); hc != def.end() && hc->is_object()) {
      op->http_checksum_required = op->http_checksum_required || BoolOr(*hc, "requestChecksumRequired");
    }
    // A later definition of the same name replaces the earlier one (test cases repeat "given").
    auto existing = model_.operations_by_name_.find(op->name);
    if (existing != model_.operations_by_name_.end()) {
      for (auto& slot : model_.operations_) {
        if (slot.get() == existing->second) {
          slot = std::move(op);
          existing->second = slot.get();
          return Status::Ok();
        }
      }
    }
    model_.operations_by_name_[op->name] = op.get();
    model_.operations_.push_back(std::move(op));
    return Status::Ok();
  }

  void IndexErrors() {
    for (const auto& [name, shape] : model_.shapes_) {
      if (!shape->exception) continue;
      model_.errors_by_code_.emplace(name, shape.get());
      if (!shape->error_code.empty()) model_.errors_by_code_.emplace(shape->error_code, shape.get());
    }
  }

 private:
  Result<const Shape*> Ref(const std::string& name, const std::string& context) {
    auto it = model_.shapes_.find(name);
    if (it == model_.shapes_.end()) {
      return ModelError("'" + context + "' refers to unknown shape '" + name + "'");
    }
    return static_cast<const Shape*>(it->second.get());
  }

  Result<Member> ParseMember(std::string name, const Json& def, const std::string& context) {
    if (!def.is_object()) return ModelError("member '" + name + "' of '" + context + "' is not an object");
    Member m;
    m.name = std::move(name);
    STRATUS_ASSIGN_OR_RETURN(m.shape, Ref(StringOr(def, "shape"), context));
    std::string location = StringOr(def, "location");
    if (location == "uri") {
      m.location = Location::kUri;
    } else if (location == "querystring") {
      m.location = Location::kQuery;
    } else if (location == "header") {
      m.location = Location::kHeader;
    } else if (location == "headers") {
      m.location = Location::kHeaders;
    } else if (location == "statusCode") {
      m.location = Location::kStatusCode;
    }
    m.location_name = StringOr(def, "locationName");
    m.query_name = StringOr(def, "queryName");
    m.json_name = StringOr(def, "jsonName");
    m.timestamp_format = StringOr(def, "timestampFormat");
    m.xml_attribute = BoolOr(def, "xmlAttribute");
    m.flattened = BoolOr(def, "flattened");
    m.host_label = BoolOr(def, "hostLabel");
    m.idempotency_token = BoolOr(def, "idempotencyToken");
    m.json_value = BoolOr(def, "jsonvalue");
    m.streaming = BoolOr(def, "streaming");
    m.event_payload = BoolOr(def, "eventpayload");
    ParseXmlNamespace(def, m.xml_namespace_uri, m.xml_namespace_prefix);
    return m;
  }

  Status FillShape(Shape& s, const Json& def) {
    if (!def.is_object()) return ModelError("shape '" + s.name + "' is not an object");
    std::string type = StringOr(def, "type");
    auto parsed = ParseShapeType(type);
    if (!parsed) return ModelError("shape '" + s.name + "' has unknown type '" + type + "'");
    s.type = *parsed;
    if (auto members = def.find("members"); members != def.end() && members->is_object()) {
      s.members.reserve(members->size());
      for (const auto& [name, mdef] : members->items()) {
        STRATUS_ASSIGN_OR_RETURN(Member m, ParseMember(name, mdef, s.name));
        s.members.push_back(std::move(m));
      }
    }
    if (auto req = def.find("required"); req != def.end() && req->is_array()) {
      for (const Json& r : *req) {
        if (r.is_string()) s.required.push_back(r.get<std::string>());
      }
    }
    s.payload = StringOr(def, "payload");
    s.exception = BoolOr(def, "exception");
    s.fault = BoolOr(def, "fault");
    if (auto err = def.find("error"); err != def.end() && err->is_object()) {
      s.error_code = StringOr(*err, "code");
      if (auto st = err->find("httpStatusCode"); st != err->end() && st->is_number_integer()) {
        s.error_http_status = st->get<int>();
      }
      if (auto sf = err->find("senderFault"); sf != err->end() && sf->is_boolean()) {
        s.fault = !sf->get<bool>();
      }
    }
    s.document = BoolOr(def, "document");
    s.union_ = BoolOr(def, "union");
    s.event_stream = BoolOr(def, "eventstream");
    for (auto [key, slot] : {std::pair{"member", &s.list_member}, std::pair{"key", &s.map_key},
                             std::pair{"value", &s.map_value}}) {
      if (auto it = def.find(key); it != def.end()) {
        STRATUS_ASSIGN_OR_RETURN(Member m, ParseMember(key, *it, s.name));
        *slot = std::make_unique<Member>(std::move(m));
      }
    }
    if ((s.type == ShapeType::kList && !s.list_member) ||
        (s.type == ShapeType::kMap && (!s.map_key || !s.map_value))) {
      return ModelError("shape '" + s.name + "' lacks its member/key/value");
    }
    s.flattened = BoolOr(def, "flattened");
    if (auto en = def.find("enum"); en != def.end() && en->is_array()) {
      for (const Json& v : *en) {
        if (v.is_string()) s.enum_values.push_back(v.get<std::string>());
      }
    }
    if (auto v = def.find("min"); v != def.end() && v->is_number()) s.min = v->get<double>();
    if (auto v = def.find("max"); v != def.end() && v->is_number()) s.max = v->get<double>();
    s.pattern = StringOr(def, "pattern");
    s.timestamp_format = StringOr(def, "timestampFormat");
    s.streaming = BoolOr(def, "streaming");
    s.sensitive = BoolOr(def, "sensitive");
    s.location_name = StringOr(def, "locationName");
    ParseXmlNamespace(def, s.xml_namespace_uri, s.xml_namespace_prefix);
    return Status::Ok();
  }

  ServiceModel& model_;
};

namespace {

// nlohmann throws on some type mismatches; no exception may leave the model API.
template <class Fn>
auto Guarded(Fn fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return ModelError(std::string("malformed model: ") + e.what());
  }
}

}  // namespace

Result<std::unique_ptr<ServiceModel>> ServiceModel::FromJson(const Json& document) {
  return Guarded([&]() -> Result<std::unique_ptr<ServiceModel>> {
    if (!document.is_object()) return ModelError("a model must be a JSON object");
    auto model = std::make_unique<ServiceModel>();
    ModelBuilder builder(*model);
    auto md = document.find("metadata");
    if (md == document.end()) return ModelError("model has no metadata");
    STRATUS_RETURN_IF_ERROR(builder.Metadata(*md));
    auto shapes = document.find("shapes");
    if (shapes != document.end()) STRATUS_RETURN_IF_ERROR(builder.Shapes(*shapes));
    if (auto ops = document.find("operations"); ops != document.end() && ops->is_object()) {
      model->operations_.reserve(ops->size());
      for (const auto& [name, def] : ops->items()) {
        // The key names the operation (CloudFront's "name" says "AssociateAlias2020_05_31").
        Json named = def;
        named["name"] = name;
        STRATUS_RETURN_IF_ERROR(builder.AddOperation(named));
      }
    }
    builder.IndexErrors();
    return model;
  });
}

Result<std::unique_ptr<ServiceModel>> ServiceModel::Parse(std::string_view json_text) {
  Json doc = ParseJsonOrDiscarded(json_text);
  if (doc.is_discarded()) return ModelError("model is not valid JSON");
  return FromJson(doc);
}

Result<std::unique_ptr<ServiceModel>> ServiceModel::FromParts(std::string_view metadata_json,
                                                              std::string_view shapes_json) {
  Json md = ParseJsonOrDiscarded(metadata_json);
  Json shapes = ParseJsonOrDiscarded(shapes_json);
  if (md.is_discarded() || shapes.is_discarded()) return ModelError("model parts are not valid JSON");
  Json doc = Json::object();
  doc["metadata"] = std::move(md);
  doc["shapes"] = std::move(shapes);
  return FromJson(doc);
}

Status ServiceModel::AddOperation(std::string_view operation_json) {
  Json def = ParseJsonOrDiscarded(operation_json);
  if (def.is_discarded()) return ModelError("operation is not valid JSON");
  return Guarded([&]() -> Status {
    ModelBuilder builder(*this);
    STRATUS_RETURN_IF_ERROR(builder.AddOperation(def));
    if (errors_by_code_.empty()) builder.IndexErrors();
    return Status::Ok();
  });
}

}  // namespace stratus::aws
