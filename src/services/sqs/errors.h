#pragma once
// SQS's errors, named as AWS names them (the query codes come from the model's error shapes and
// the SQS overlay, so json answers carry the same code in x-amzn-query-error).
#include <string>

#include "core/result.h"

namespace stratus::services::sqs {

inline Error InvalidParameterValue(std::string message) {
  return Error("InvalidParameterValue", std::move(message));
}
inline Error MissingParameter(std::string message) {
  return Error("MissingParameter", std::move(message));
}
inline Error QueueDoesNotExist() {
  return Error("QueueDoesNotExist", "The specified queue does not exist.");
}
inline Error InvalidAttributeName(const std::string& name) {
  return Error("InvalidAttributeName", "Unknown Attribute " + name + ".");
}
inline Error InvalidAttributeValue(const std::string& name) {
  return Error("InvalidAttributeValue", "Invalid value for the parameter " + name + ".");
}
inline Error ReceiptHandleIsInvalid(const std::string& handle) {
  return Error("ReceiptHandleIsInvalid",
               "The input receipt handle \"" + handle + "\" is not a valid receipt handle.");
}
inline Error InvalidMessageContents() {
  return Error("InvalidMessageContents",
               "Invalid characters found. Valid unicode characters are #x9 | #xA | #xD | #x20 to "
               "#xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF");
}
inline Error UnsupportedOperation(std::string message) {
  return Error("UnsupportedOperation", std::move(message));
}

}  // namespace stratus::services::sqs
