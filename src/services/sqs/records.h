#pragma once
// Internal: store keys and the serialized forms of queues and messages (layout in engine.h).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/json.h"
#include "services/sqs/queue.h"

namespace stratus::services::sqs::records {

std::string Hex16(uint64_t v);
std::optional<uint64_t> ParseHex16(std::string_view s);

inline std::string QueueKey(const QueueRef& r) {
  return "sqs/q/" + r.account + "/" + r.region + "/" + r.name;
}
inline constexpr std::string_view kQueuePrefix = "sqs/q/";
inline std::string MessagePrefix(uint64_t qid) { return "sqs/m/" + Hex16(qid) + "/"; }
inline std::string MessageKey(uint64_t qid, uint64_t seq) { return MessagePrefix(qid) + Hex16(seq); }
inline std::string StatePrefix(uint64_t qid) { return "sqs/s/" + Hex16(qid) + "/"; }
inline std::string StateKey(uint64_t qid, uint64_t seq) { return StatePrefix(qid) + Hex16(seq); }
inline std::string DedupPrefix(uint64_t qid) { return "sqs/d/" + Hex16(qid) + "/"; }
inline std::string DedupKey(uint64_t qid, std::string_view key) {
  return DedupPrefix(qid) + std::string(key);
}
inline constexpr std::string_view kTaskPrefix = "sqs/t/";

std::string EncodeQueue(const Queue& q);
// Fills id, ref, attributes, tags and timestamps; false when the record is unreadable.
bool DecodeQueue(std::string_view value, Queue& q);

std::string EncodeMessage(const Message& m);
bool DecodeMessage(std::string_view value, Message& m);
std::string EncodeState(const Message& m);
bool DecodeState(std::string_view value, Message& m);

}  // namespace stratus::services::sqs::records
