#include "services/sqs/queue_config.h"

#include <set>

#include "core/strings.h"
#include "services/sqs/errors.h"

namespace stratus::services::sqs {

namespace {

struct Range {
  const char* name;
  int64_t lo;
  int64_t hi;
  int64_t def;
};

constexpr Range kRanges[] = {
    {"VisibilityTimeout", 0, kMaxVisibilitySeconds, 30},
    {"DelaySeconds", 0, kMaxDelaySeconds, 0},
    {"MessageRetentionPeriod", 60, 1209600, 345600},
    {"MaximumMessageSize", 1024, kMaxMessageBytes, kMaxMessageBytes},
    {"ReceiveMessageWaitTimeSeconds", 0, kMaxWaitSeconds, 0},
    {"KmsDataKeyReusePeriodSeconds", 60, 86400, 300},
};

const std::set<std::string>& Settable() {
  static const std::set<std::string> names = {
      "VisibilityTimeout", "DelaySeconds", "MessageRetentionPeriod", "MaximumMessageSize",
      "ReceiveMessageWaitTimeSeconds", "KmsDataKeyReusePeriodSeconds", "Policy", "RedrivePolicy",
      "RedriveAllowPolicy", "KmsMasterKeyId", "SqsManagedSseEnabled", "FifoQueue",
      "ContentBasedDeduplication", "DeduplicationScope", "FifoThroughputLimit"};
  return names;
}

bool IsFifoOnly(const std::string& n) {
  return n == "ContentBasedDeduplication" || n == "DeduplicationScope" ||
         n == "FifoThroughputLimit";
}

bool IsBool(const std::string& v) { return v == "true" || v == "false"; }

Status ValidateRedrive(const std::string& value) {
  Json p = ParseJsonOrDiscarded(value);
  if (!p.is_object()) {
    return InvalidParameterValue("Value " + value +
                                 " for parameter RedrivePolicy is invalid. Reason: Invalid value "
                                 "for the parameter RedrivePolicy.");
  }
  if (!p.contains("deadLetterTargetArn") || !p.contains("maxReceiveCount")) {
    return InvalidParameterValue(
        "Value " + value +
        " for parameter RedrivePolicy is invalid. Reason: Redrive policy does not contain mandatory "
        "attribute: " +
        std::string(p.contains("deadLetterTargetArn") ? "maxReceiveCount" : "deadLetterTargetArn") +
        ".");
  }
  const Json& c = p["maxReceiveCount"];
  std::optional<int64_t> n;
  if (c.is_number_integer()) n = c.get<int64_t>();
  if (c.is_string()) n = ParseInt64(c.get<std::string>());
  if (!n || *n < 1 || *n > 1000) {
    return InvalidParameterValue("Value " + value +
                                 " for parameter RedrivePolicy is invalid. Reason: Invalid value "
                                 "for maxReceiveCount: " + c.dump() +
                                 ", valid values are from 1 to 1000 both inclusive.");
  }
  if (!p["deadLetterTargetArn"].is_string() ||
      !StartsWith(p["deadLetterTargetArn"].get<std::string>(), "arn:")) {
    return InvalidParameterValue("Value " + value +
                                 " for parameter RedrivePolicy is invalid. Reason: Invalid value "
                                 "for deadLetterTargetArn.");
  }
  return Status::Ok();
}

Status ValidateRedriveAllow(const std::string& value) {
  const std::string invalid = "Value " + value +
                              " for parameter RedriveAllowPolicy is invalid. Reason: Amazon SQS "
                              "can't create the redrive allow policy. ";
  const Error unsupported = InvalidParameterValue(
      "Invalid value for the parameter RedriveAllowPolicy. Reason: Amazon SQS can't create the "
      "redrive allow policy, as it\u2019s in an unsupported format.");
  Json p = ParseJsonOrDiscarded(value);
  if (!p.is_object()) return unsupported;
  for (const auto& [k, _] : p.items()) {
    if (k != "redrivePermission" && k != "sourceQueueArns") return unsupported;
  }
  if (!p.contains("redrivePermission") || !p["redrivePermission"].is_string()) return unsupported;
  std::string permission = p["redrivePermission"].get<std::string>();
  if (permission != "allowAll" && permission != "denyAll" && permission != "byQueue") {
    return unsupported;
  }
  if (p.contains("sourceQueueArns")) {
    const Json& arns = p["sourceQueueArns"];
    if (!arns.is_array()) return unsupported;
    for (const auto& a : arns) {
      if (!a.is_string()) return unsupported;
    }
    if (permission != "byQueue") {
      return InvalidParameterValue(invalid + "To specify one or more source queue ARNs, you must "
                                             "set redrivePermission to byQueue.");
    }
    if (arns.size() > 10) {
      return InvalidParameterValue(invalid +
                                   "The maximum number of source queue ARNs you can specify is 10.");
    }
  }
  if (permission == "byQueue" && (!p.contains("sourceQueueArns") || p["sourceQueueArns"].empty())) {
    return InvalidParameterValue(invalid + "When you specify the byQueue permission type, you "
                                           "must also specify one or more sourceQueueArns values.");
  }
  return Status::Ok();
}

}  // namespace

Status CheckRedriveAllowed(const std::string& redrive_policy, const std::string& dlq_arn,
                           const std::string& allow_policy, const std::string& source_arn) {
  if (allow_policy.empty()) return Status::Ok();  // allowAll is the default
  Json p = ParseJsonOrDiscarded(allow_policy);
  std::string permission = p.is_object() ? p.value("redrivePermission", "allowAll") : "allowAll";
  bool allowed = permission == "allowAll";
  if (permission == "byQueue" && p.contains("sourceQueueArns") && p["sourceQueueArns"].is_array()) {
    for (const auto& a : p["sourceQueueArns"]) allowed = allowed || (a.is_string() && a == source_arn);
  }
  if (allowed) return Status::Ok();
  return InvalidParameterValue("Value " + redrive_policy +
                               " for parameter RedrivePolicy is invalid. Reason: Queue " + dlq_arn +
                               " does not allow this queue to use it as a dead letter queue.");
}

bool IsKnownAttributeName(const std::string& name) {
  static const std::set<std::string> names = {
      "All", "Policy", "VisibilityTimeout", "MaximumMessageSize", "MessageRetentionPeriod",
      "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible", "CreatedTimestamp",
      "LastModifiedTimestamp", "QueueArn", "ApproximateNumberOfMessagesDelayed", "DelaySeconds",
      "ReceiveMessageWaitTimeSeconds", "RedrivePolicy", "FifoQueue", "ContentBasedDeduplication",
      "KmsMasterKeyId", "KmsDataKeyReusePeriodSeconds", "DeduplicationScope",
      "FifoThroughputLimit", "RedriveAllowPolicy", "SqsManagedSseEnabled"};
  return names.count(name) > 0;
}

Status ValidateAttributes(const Json& attributes, bool fifo, bool creating) {
  if (!attributes.is_object()) return Status::Ok();
  for (const auto& [name, v] : attributes.items()) {
    if (!Settable().count(name) || (!fifo && IsFifoOnly(name))) return InvalidAttributeName(name);
    std::string value = v.is_string() ? v.get<std::string>() : v.dump();
    bool ranged = false;
    for (const Range& r : kRanges) {
      if (name != r.name) continue;
      ranged = true;
      auto n = ParseInt64(Trim(value));
      if (!n || *n < r.lo || *n > r.hi) return InvalidAttributeValue(name);
    }
    if (ranged) continue;
    if (name == "FifoQueue") {
      if (!IsBool(value)) return InvalidAttributeValue(name);
      if (!creating && (value == "true") != fifo) return InvalidAttributeValue(name);
    } else if (name == "ContentBasedDeduplication" || name == "SqsManagedSseEnabled") {
      if (!IsBool(value)) return InvalidAttributeValue(name);
    } else if (name == "DeduplicationScope") {
      if (value != "messageGroup" && value != "queue") return InvalidAttributeValue(name);
    } else if (name == "FifoThroughputLimit") {
      if (value != "perMessageGroupId" && value != "perQueue") return InvalidAttributeValue(name);
    } else if (name == "RedrivePolicy") {
      if (!value.empty()) STRATUS_RETURN_IF_ERROR(ValidateRedrive(value));
    } else if (name == "RedriveAllowPolicy") {
      if (!value.empty()) STRATUS_RETURN_IF_ERROR(ValidateRedriveAllow(value));
    } else if (name == "Policy") {
      if (!value.empty() && !ParseJsonOrDiscarded(value).is_object()) {
        return InvalidAttributeValue(name);
      }
    }
  }
  if (fifo && attributes.contains("FifoThroughputLimit") &&
      attributes["FifoThroughputLimit"] == "perMessageGroupId" &&
      attributes.value("DeduplicationScope", "queue") == "queue" &&
      attributes.contains("DeduplicationScope")) {
    return InvalidParameterValue(
        "The perMessageGroupId value is allowed only when the value for DeduplicationScope is "
        "messageGroup");
  }
  return Status::Ok();
}

QueueConfig ParseConfig(const Json& a) {
  QueueConfig c;
  auto num = [&](const char* name, int64_t def) -> int64_t {
    if (!a.contains(name)) return def;
    auto n = ParseInt64(Trim(a[name].get<std::string>()));
    return n ? *n : def;
  };
  c.visibility_timeout_s = num("VisibilityTimeout", 30);
  c.delay_s = num("DelaySeconds", 0);
  c.retention_s = num("MessageRetentionPeriod", 345600);
  c.max_message_bytes = num("MaximumMessageSize", kMaxMessageBytes);
  c.receive_wait_s = num("ReceiveMessageWaitTimeSeconds", 0);
  c.fifo = a.value("FifoQueue", "false") == "true";
  c.content_based_dedup = a.value("ContentBasedDeduplication", "false") == "true";
  c.dedup_scope_group = a.value("DeduplicationScope", "queue") == "messageGroup";
  c.throughput_per_group = a.value("FifoThroughputLimit", "perQueue") == "perMessageGroupId";
  std::string redrive = a.value("RedrivePolicy", "");
  if (!redrive.empty()) {
    Json p = ParseJsonOrDiscarded(redrive);
    if (p.is_object()) {
      c.dlq_arn = p.value("deadLetterTargetArn", "");
      const Json& m = p["maxReceiveCount"];
      if (m.is_number_integer()) c.max_receive_count = m.get<int64_t>();
      if (m.is_string()) c.max_receive_count = ParseInt64(m.get<std::string>()).value_or(0);
    }
  }
  return c;
}

Json WithDefaults(const Json& attributes, bool fifo) {
  Json out = Json::object();
  out["VisibilityTimeout"] = "30";
  out["MaximumMessageSize"] = std::to_string(kMaxMessageBytes);
  out["MessageRetentionPeriod"] = "345600";
  out["DelaySeconds"] = "0";
  out["ReceiveMessageWaitTimeSeconds"] = "0";
  out["SqsManagedSseEnabled"] = "true";
  if (fifo) {
    out["FifoQueue"] = "true";
    out["ContentBasedDeduplication"] = "false";
    out["DeduplicationScope"] = "queue";
    out["FifoThroughputLimit"] = "perQueue";
  }
  for (const auto& [k, v] : attributes.items()) {
    std::string s = v.is_string() ? v.get<std::string>() : v.dump();
    if (s.empty() && (k == "Policy" || k == "RedrivePolicy" || k == "RedriveAllowPolicy")) {
      out.erase(k);
      continue;
    }
    out[k] = s;
  }
  if (out.contains("KmsMasterKeyId") && !out.contains("KmsDataKeyReusePeriodSeconds")) {
    out["KmsDataKeyReusePeriodSeconds"] = "300";
  }
  return out;
}

}  // namespace stratus::services::sqs
