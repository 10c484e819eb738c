#pragma once
// Internal: the constructors behind MakeCodec, one per protocol file.
#include <memory>

#include "aws/protocol/codec.h"

namespace stratus::aws {

std::unique_ptr<Codec> MakeQueryCodec(const ServiceModel& model);
std::unique_ptr<Codec> MakeJsonCodec(const ServiceModel& model);
std::unique_ptr<Codec> MakeRestJsonCodec(const ServiceModel& model);
std::unique_ptr<Codec> MakeRestXmlCodec(const ServiceModel& model);

// The JSON error body shared by json and rest-json ("__type", "message", modelled fields);
// `rest` adds x-amzn-ErrorType and writes header-bound fields as headers.
HttpResponse EncodeJsonError(const ServiceModel& model, const std::string& content_type,
                             const Error& error, const ResponseMeta& meta, bool rest);

}  // namespace stratus::aws
