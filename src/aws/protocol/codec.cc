#include "aws/protocol/codec.h"

#include "aws/protocol/protocols.h"

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

}  // namespace stratus::aws
