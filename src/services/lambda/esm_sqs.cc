// The SQS event source: ReceiveMessage / DeleteMessageBatch through the in-process
// OperationCaller against the "sqs" service, records in the shape Lambda gives SQS events.
#include <algorithm>
#include <chrono>
#include <mutex>

#include "core/strings.h"
#include "services/lambda/errors.h"
#include "services/lambda/event_sources.h"

namespace stratus::services::lambda {

namespace {

constexpr int kMaxReceive = 10;         // SQS's ReceiveMessage limit
constexpr int kLongPollSeconds = 2;     // short enough for pollers to stop promptly
constexpr size_t kMaxDeleteBatch = 10;  // SQS's DeleteMessageBatch limit

Json ToRecordAttributes(const Json& message_attributes) {
  Json out = Json::object();
  if (!message_attributes.is_object()) return out;
  for (auto& [name, a] : message_attributes.items()) {
    Json v{{"stringListValues", Json::array()}, {"binaryListValues", Json::array()},
           {"dataType", a.value("DataType", "String")}};
    if (a.contains("StringValue")) v["stringValue"] = a["StringValue"];
    if (a.contains("BinaryValue")) v["binaryValue"] = a["BinaryValue"];
    out[name] = v;
  }
  return out;
}

class SqsSource final : public EventSource {
 public:
  explicit SqsSource(SourceContext ctx) : ctx_(std::move(ctx)) {
    SourceArn a = ParseSourceArn(ctx_);
    region_ = std::move(a.region);
    owner_ = std::move(a.owner);
    queue_ = std::move(a.resource);
  }

  Status Validate() override {
    if (queue_.empty()) return InvalidParameterValue("Invalid SQS queue ARN: " + ctx_.arn);
    auto url = QueueUrl();
    if (!url.ok()) return url.error();
    return Status::Ok();
  }

  Result<SourceBatch> Poll(int batch_size, int64_t window_ms) override {
    STRATUS_ASSIGN_OR_RETURN(std::string url, QueueUrl());
    SourceBatch batch;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(window_ms);
    bool first = true;
    while (static_cast<int>(batch.ids.size()) < batch_size) {
      int want = std::min(kMaxReceive, batch_size - static_cast<int>(batch.ids.size()));
      auto left = std::chrono::duration_cast<std::chrono::seconds>(deadline - std::chrono::steady_clock::now()).count();
      int wait = first ? kLongPollSeconds : static_cast<int>(std::clamp<int64_t>(left, 0, kLongPollSeconds));
      first = false;
      auto r = Call("ReceiveMessage", Json{{"QueueUrl", url},
                                           {"MaxNumberOfMessages", want},
                                           {"WaitTimeSeconds", wait},
                                           {"AttributeNames", Json::array({"All"})},
                                           {"MessageAttributeNames", Json::array({"All"})}});
      if (!r.ok()) {
        if (!batch.ids.empty()) break;
        return r.error();
      }
      const Json messages = r->value("Messages", Json::array());
      for (const auto& m : messages) {
        Json record{{"messageId", m.value("MessageId", "")},
                    {"receiptHandle", m.value("ReceiptHandle", "")},
                    {"body", m.value("Body", "")},
                    {"attributes", m.value("Attributes", Json::object())},
                    {"messageAttributes", ToRecordAttributes(m.value("MessageAttributes", Json::object()))},
                    {"md5OfBody", m.value("MD5OfBody", "")},
                    {"eventSource", "aws:sqs"},
                    {"eventSourceARN", ctx_.arn},
                    {"awsRegion", region_}};
        batch.ids.push_back(m.value("MessageId", ""));
        batch.receipts.push_back(m.value("ReceiptHandle", ""));
        batch.records.push_back(std::move(record));
      }
      if (window_ms <= 0 || std::chrono::steady_clock::now() >= deadline) break;
      if (messages.empty() && batch.ids.empty()) break;
    }
    batch.full = static_cast<int>(batch.ids.size()) >= std::min(batch_size, kMaxReceive);
    return batch;
  }

  // A body that is a JSON object or array is filtered as JSON (`{"body": {"field": [...]}}`);
  // any other body as the plain string it is (`{"body": ["text"]}`). A pattern of the other
  // shape never matches it, so the message is dropped, as AWS documents.
  Json FilterView(const Json& record) const override {
    auto it = record.find("body");
    if (it == record.end() || !it->is_string()) return record;
    Json body = ParseJsonOrDiscarded(it->get_ref<const std::string&>());
    if (body.is_discarded() || (!body.is_object() && !body.is_array())) return record;
    Json view = record;
    view["body"] = std::move(body);
    return view;
  }

  void Finish(const SourceBatch& batch, const BatchOutcome& outcome) override {
    if (outcome.function_failed) return;  // every message comes back after its visibility timeout
    auto url = QueueUrl();
    if (!url.ok()) return;
    Json entries = Json::array();
    auto flush = [&] {
      if (entries.empty()) return;
      (void)Call("DeleteMessageBatch", Json{{"QueueUrl", *url}, {"Entries", entries}});
      entries = Json::array();
    };
    for (size_t i = 0; i < batch.ids.size(); ++i) {
      bool failed = std::find(outcome.failed_ids.begin(), outcome.failed_ids.end(), batch.ids[i]) !=
                    outcome.failed_ids.end();
      if (failed) continue;
      entries.push_back(Json{{"Id", "m" + std::to_string(i)}, {"ReceiptHandle", batch.receipts[i]}});
      if (entries.size() == kMaxDeleteBatch) flush();
    }
    flush();
  }

 private:
  Result<Json> Call(const std::string& operation, Json input) {
    if (!ctx_.caller) return ServiceError("No in-process service caller.");
    aws::InternalCall call;
    call.service = "sqs";
    call.operation = operation;
    call.input = std::move(input);
    call.account = owner_;
    call.region = region_;
    call.principal_arn = "lambda.amazonaws.com";
    auto r = ctx_.caller->CallAndWait(std::move(call));
    if (!r.ok()) {
      if (r.error().code == "UnknownOperationException") {
        return InvalidParameterValue(
            "SQS event sources need the sqs service, which this stratus does not have (" +
            r.error().message + ")");
      }
      return r.error();
    }
    return std::move(r->body);
  }

  Result<std::string> QueueUrl() {
    {
      std::lock_guard lock(mu_);
      if (!url_.empty()) return url_;
    }
    auto r = Call("GetQueueUrl", Json{{"QueueName", queue_}, {"QueueOwnerAWSAccountId", owner_}});
    if (!r.ok()) {
      if (r.error().code == "InvalidParameterValueException") return r.error();
      return InvalidParameterValue("Error occurred while ReceiveMessage. SQS Error Code: " +
                                   r.error().code + ". SQS Error Message: " + r.error().message);
    }
    std::lock_guard lock(mu_);
    url_ = r->value("QueueUrl", "");
    return url_;
  }

  SourceContext ctx_;
  std::string region_, owner_, queue_;
  std::mutex mu_;    // guards url_ (pollers share the source)
  std::string url_;
};

}  // namespace

std::unique_ptr<EventSource> MakeSqsSource(const SourceContext& ctx) {
  return std::make_unique<SqsSource>(ctx);
}

}  // namespace stratus::services::lambda
