#pragma once
// Internal to the SQS engine: the input checks and small helpers that the send path
// (send.cc) and the receive/delete/visibility paths (messages.cc) share.
#include <cstdint>
#include <future>
#include <string>
#include <string_view>

#include "core/json.h"
#include "core/result.h"

namespace stratus::services::sqs {

// True when every code point is one SQS accepts (XML 1.0 characters).
bool HasOnlyValidCharacters(std::string_view s);

// Checks a batch's entry list: not empty, at most 10, ids well-formed and distinct.
Status CheckBatch(const Json& entries, const std::string& entry_type);

// Validates message attributes; returns their size in bytes as SQS counts it.
Result<int64_t> CheckAttributes(const Json& attrs);

// A FIFO sequence number as SQS writes it: 20 decimal digits.
std::string SequenceNumber(uint64_t seq);

// Runs an asynchronous engine operation (`start` is given the Done to call) and waits for its
// answer: the blocking forms of the asynchronous operations.
template <typename Start>
Result<Json> Wait(Start start) {
  std::promise<Result<Json>> answered;
  std::future<Result<Json>> answer = answered.get_future();
  start([&answered](Result<Json> r) { answered.set_value(std::move(r)); });
  return answer.get();
}

}  // namespace stratus::services::sqs
