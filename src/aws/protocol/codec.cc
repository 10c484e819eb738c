#include "aws/protocol/codec.h"

#include <algorithm>

#include "aws/protocol/protocols.h"
#include "core/strings.h"

namespace stratus::aws {

std::unique_ptr<Codec> MakeCodec(Protocol protocol, const ServiceModel& model) {
  switch (protocol) {
    case Protocol::kQuery: return MakeQueryCodec(model);
    case Protocol::kJson: return MakeJsonCodec(model);
    case Protocol::kRestJson: return MakeRestJsonCodec(model);
    case Protocol::kRestXml: return MakeRestXmlCodec(model);
    case Protocol::kEc2: return nullptr;  // no ec2-protocol service is served
  }
  return nullptr;
}

Protocol DetectProtocol(const HttpRequest& request, const std::vector<Protocol>& protocols) {
  auto served = [&](Protocol p) {
    return std::find(protocols.begin(), protocols.end(), p) != protocols.end();
  };
  if (protocols.size() > 1) {
    std::string content_type = ToLower(request.headers.GetOr("content-type"));
    if (served(Protocol::kJson) &&
        (request.headers.Has("x-amz-target") || StartsWith(content_type, "application/x-amz-json"))) {
      return Protocol::kJson;
    }
    if (served(Protocol::kQuery) &&
        (StartsWith(content_type, "application/x-www-form-urlencoded") ||
         StartsWith(request.query, "Action=") || request.query.find("&Action=") != std::string::npos)) {
      return Protocol::kQuery;
    }
  }
  return protocols.front();
}

}  // namespace stratus::aws
