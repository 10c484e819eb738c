#pragma once
// The digests SQS returns and SDKs verify (the SDKs check MD5OfMessageBody and
// MD5OfMessageAttributes of every send and receive and fail the call on a mismatch).
//
// MD5OfMessageAttributes is the MD5 of AWS's binary encoding of the attributes, in ascending
// order of name: for each, the name, then the data type, each as a 4-byte big-endian length and
// the UTF-8 bytes; then one transport byte (1 = string: String, Number and their custom
// ".suffix" types; 2 = binary); then the value as a 4-byte length and its bytes (the string's
// UTF-8 bytes, or the decoded binary). MD5OfMessageSystemAttributes encodes the system attributes
// (AWSTraceHeader) the same way. Pure functions, thread-safe.
#include <string>

#include "core/json.h"

namespace stratus::services::sqs {

// Hex MD5 of the body's UTF-8 bytes.
std::string Md5OfBody(std::string_view body);

// Hex MD5 of message attributes in canonical JSON ({"name": {"DataType", "StringValue" |
// "BinaryValue" (base64)}}); "" for an empty or absent map (AWS then omits the member).
std::string Md5OfAttributes(const Json& attributes);

}  // namespace stratus::services::sqs
