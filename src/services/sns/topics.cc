#include "services/sns/topics.h"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "core/strings.h"

namespace stratus::services::sns {

namespace {

constexpr std::string_view kTopicPrefix = "sns/topic/";
constexpr std::string_view kSubPrefix = "sns/sub/";
constexpr std::string_view kUnsubPrefix = "sns/unsub/";  // + token: a restorable subscription
constexpr size_t kPageSize = 100;

bool ValidTopicName(const std::string& name, bool fifo) {
  std::string_view n = name;
  if (fifo) {
    if (!EndsWith(n, ".fifo")) return false;
    n.remove_suffix(5);
  }
  if (n.empty() || name.size() > 256) return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
  });
}

std::string DefaultPolicy(const Topic& t) {
  Json actions = Json::array({"SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                              "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                              "SNS:ListSubscriptionsByTopic", "SNS:Publish"});
  Json p{{"Version", "2008-10-17"},
         {"Id", "__default_policy_ID"},
         {"Statement",
          Json::array({Json{{"Sid", "__default_statement_ID"},
                            {"Effect", "Allow"},
                            {"Principal", Json{{"AWS", "*"}}},
                            {"Action", actions},
                            {"Resource", t.arn},
                            {"Condition", Json{{"StringEquals", Json{{"AWS:SourceOwner", t.account}}}}}}})}};
  return p.dump();
}

Json SubToJson(const Subscription& s) {
  return Json{{"arn", s.arn},           {"topic", s.topic_arn},   {"owner", s.owner},
              {"protocol", s.protocol}, {"endpoint", s.endpoint}, {"pending", s.pending},
              {"auth", s.authenticated}, {"token", s.token},      {"raw", s.raw},
              {"filter", s.filter_policy}, {"scope", s.filter_scope}, {"attributes", s.attributes}};
}

bool SubFromJson(const Json& j, Subscription& s) {
  if (!j.is_object()) return false;
  s.arn = j.value("arn", "");
  s.topic_arn = j.value("topic", "");
  s.owner = j.value("owner", "");
  s.protocol = j.value("protocol", "");
  s.endpoint = j.value("endpoint", "");
  s.pending = j.value("pending", false);
  s.authenticated = j.value("auth", true);
  s.token = j.value("token", "");
  s.raw = j.value("raw", false);
  s.filter_policy = j.value("filter", "");
  s.filter_scope = j.value("scope", "");
  s.attributes = j.value("attributes", Json::object());
  if (!s.filter_policy.empty()) {
    auto f = CompileFilterPolicy(s.filter_policy,
                                 s.filter_scope == "MessageBody" ? FilterScope::kMessageBody
                                                                 : FilterScope::kMessageAttributes,
                                 false);
    if (f.ok()) s.filter = *f;
  }
  return !s.arn.empty();
}

Json TopicToJson(const Topic& t) {
  return Json{{"arn", t.arn},       {"name", t.name},     {"account", t.account},
              {"region", t.region}, {"attributes", t.attributes}, {"tags", t.tags}};
}

std::string Page(const std::string& token) {
  auto d = Base64Decode(token);
  return d ? *d : std::string();
}

}  // namespace

Error InvalidParameter(const std::string& what) {
  return Error("InvalidParameter", "Invalid parameter: " + what);
}
Error NotFound(const std::string& message) { return Error("NotFound", message, 404); }

Status ApplySubscriptionAttribute(Subscription& sub, const std::string& name,
                                  const std::string& value, bool via_subscribe) {
  std::string reason = via_subscribe ? "Attributes Reason: " : "";
  if (name == "RawMessageDelivery") {
    std::string v = ToLower(value);
    if (v != "true" && v != "false") {
      return InvalidParameter(reason + "RawMessageDelivery: Invalid value [" + value +
                              "]. Must be true or false.");
    }
    sub.raw = v == "true";
  } else if (name == "FilterPolicyScope") {
    if (value != "MessageAttributes" && value != "MessageBody") {
      return InvalidParameter(reason + "FilterPolicyScope: Invalid value [" + value +
                              "]. Please use either MessageBody or MessageAttributes");
    }
    if (!sub.filter_policy.empty()) {
      auto f = CompileFilterPolicy(sub.filter_policy,
                                   value == "MessageBody" ? FilterScope::kMessageBody
                                                          : FilterScope::kMessageAttributes,
                                   via_subscribe);
      if (!f.ok()) return f.error();
      sub.filter = *f;
    }
    sub.filter_scope = value;
  } else if (name == "FilterPolicy") {
    if (value.empty()) {
      sub.filter_policy.clear();
      sub.filter.reset();
      return Status::Ok();
    }
    auto f = CompileFilterPolicy(value,
                                 sub.filter_scope == "MessageBody" ? FilterScope::kMessageBody
                                                                   : FilterScope::kMessageAttributes,
                                 via_subscribe);
    if (!f.ok()) return f.error();
    sub.filter = *f;
    sub.filter_policy = value;
  } else if (name == "RedrivePolicy") {
    if (value.empty()) {
      sub.attributes.erase(name);
      return Status::Ok();
    }
    Json p = ParseJsonOrDiscarded(value);
    if (!p.is_object()) return InvalidParameter(reason + "RedrivePolicy: failed to parse JSON.");
    if (!p.contains("deadLetterTargetArn") || !p["deadLetterTargetArn"].is_string() ||
        !StartsWith(p["deadLetterTargetArn"].get<std::string>(), "arn:aws:sqs:")) {
      return InvalidParameter(reason + "RedrivePolicy: deadLetterTargetArn is invalid");
    }
    sub.attributes[name] = value;
  } else if (name == "DeliveryPolicy") {
    if (!value.empty() && !ParseJsonOrDiscarded(value).is_object()) {
      return InvalidParameter(reason + "DeliveryPolicy: failed to parse JSON.");
    }
    if (value.empty()) {
      sub.attributes.erase(name);
    } else {
      sub.attributes[name] = value;
    }
  } else if (name == "SubscriptionRoleArn" || name == "ReplayPolicy") {
    sub.attributes[name] = value;
  } else {
    return InvalidParameter(via_subscribe ? "Attributes Reason: Unknown attribute " + name
                                          : "AttributeName");
  }
  return Status::Ok();
}

Status Registry::SaveTopic(const Topic& t) {
  std::string key = std::string(kTopicPrefix) + t.arn;
  std::string value = TopicToJson(t).dump();
  return store_.Write([&](store::WriteTxn& txn) { return txn.Put(key, value); });
}

Status Registry::SaveSubscription(const Subscription& s) {
  std::string key = std::string(kSubPrefix) + s.arn;
  std::string value = SubToJson(s).dump();
  return store_.Write([&](store::WriteTxn& txn) { return txn.Put(key, value); });
}

Status Registry::Load() {
  auto topics = store_.Scan(store::PrefixScan(kTopicPrefix));
  if (!topics.ok()) return topics.error();
  auto subs = store_.Scan(store::PrefixScan(kSubPrefix));
  if (!subs.ok()) return subs.error();
  std::map<std::string, std::shared_ptr<Topic>> loaded;
  for (const auto& row : *topics) {
    Json j = ParseJsonOrDiscarded(row.value);
    if (!j.is_object()) continue;
    auto t = std::make_shared<Topic>();
    t->arn = j.value("arn", "");
    t->name = j.value("name", "");
    t->account = j.value("account", "");
    t->region = j.value("region", "");
    t->attributes = j.value("attributes", Json::object());
    t->tags = j.value("tags", Json::object());
    t->fifo = t->attributes.value("FifoTopic", "false") == "true";
    t->content_dedup = t->attributes.value("ContentBasedDeduplication", "false") == "true";
    loaded[t->arn] = t;
  }
  std::unique_lock lock(mu_);
  for (const auto& row : *subs) {
    auto s = std::make_shared<Subscription>();
    if (!SubFromJson(ParseJsonOrDiscarded(row.value), *s)) continue;
    auto it = loaded.find(s->topic_arn);
    if (it == loaded.end()) continue;
    it->second->subscriptions.push_back(s);
    subs_[s->arn] = s;
  }
  for (auto& [arn, t] : loaded) topics_[arn] = t;
  spdlog::info("sns: loaded {} topics, {} subscriptions", topics_.size(), subs_.size());
  return Status::Ok();
}

Result<Json> Registry::CreateTopic(const std::string& account, const std::string& region,
                                   const Json& in) {
  std::string name = in.value("Name", "");
  Json attributes = in.value("Attributes", Json::object());
  bool fifo = attributes.value("FifoTopic", "false") == "true";
  if (!ValidTopicName(name, fifo)) {
    if (fifo || EndsWith(name, ".fifo")) {
      return InvalidParameter(
          "Fifo Topic names must end with .fifo and must be made up of only uppercase and "
          "lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and "
          "256 characters long.");
    }
    return InvalidParameter("Topic Name");
  }
  for (const auto& [k, v] : attributes.items()) {
    static const std::vector<std::string> known = {
        "DeliveryPolicy", "DisplayName", "Policy", "KmsMasterKeyId", "FifoTopic",
        "ContentBasedDeduplication", "SignatureVersion", "TracingConfig", "ArchivePolicy",
        "DataProtectionPolicy", "FifoThroughputScope"};
    if (std::find(known.begin(), known.end(), k) == known.end() && !EndsWith(k, "FeedbackRoleArn") &&
        !EndsWith(k, "FeedbackSampleRate")) {
      return InvalidParameter("Attributes Reason: Unknown attribute " + k);
    }
    if (k == "SignatureVersion" && v != "1" && v != "2") {
      return InvalidParameter("Attributes Reason: SignatureVersion: Invalid value [" +
                              v.get<std::string>() + "]. Must be 1 or 2.");
    }
    if (k == "ContentBasedDeduplication" && !fifo) {
      return InvalidParameter("Attributes Reason: ContentBasedDeduplication: Content-based "
                              "deduplication can only be set for FIFO topics");
    }
  }
  if (!fifo) attributes.erase("FifoTopic");
  std::string arn = "arn:aws:sns:" + region + ":" + account + ":" + name;
  std::unique_lock lock(mu_);
  if (auto it = topics_.find(arn); it != topics_.end()) {
    for (const auto& [k, v] : attributes.items()) {
      if (it->second->attributes.value(k, "") != v.get<std::string>()) {
        return InvalidParameter("Attributes Reason: Topic already exists with different attributes");
      }
    }
    return Json{{"TopicArn", arn}};
  }
  auto t = std::make_shared<Topic>();
  t->arn = arn;
  t->name = name;
  t->account = account;
  t->region = region;
  t->attributes = attributes;
  t->fifo = fifo;
  t->content_dedup = attributes.value("ContentBasedDeduplication", "false") == "true";
  for (const auto& tag : in.value("Tags", Json::array())) {
    t->tags[tag.value("Key", "")] = tag.value("Value", "");
  }
  STRATUS_RETURN_IF_ERROR(SaveTopic(*t));
  topics_[arn] = t;
  return Json{{"TopicArn", arn}};
}

Status Registry::DeleteTopic(const std::string& arn) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return Status::Ok();
  std::vector<std::string> keys = {std::string(kTopicPrefix) + arn};
  for (const auto& s : it->second->subscriptions) {
    keys.push_back(std::string(kSubPrefix) + s->arn);
  }
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    for (const auto& k : keys) STRATUS_RETURN_IF_ERROR(txn.Delete(k));
    return Status::Ok();
  }));
  for (const auto& s : it->second->subscriptions) subs_.erase(s->arn);
  topics_.erase(it);
  return Status::Ok();
}

Result<std::shared_ptr<const Topic>> Registry::GetTopic(const std::string& arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return NotFound("Topic does not exist");
  return it->second;
}

Result<Json> Registry::GetTopicAttributes(const std::string& arn) const {
  STRATUS_ASSIGN_OR_RETURN(auto t, GetTopic(arn));
  int pending = 0;
  int confirmed = 0;
  for (const auto& s : t->subscriptions) (s->pending ? pending : confirmed)++;
  Json a = Json::object();
  a["Policy"] = DefaultPolicy(*t);
  a["Owner"] = t->account;
  a["SubscriptionsPending"] = std::to_string(pending);
  a["TopicArn"] = t->arn;
  a["EffectiveDeliveryPolicy"] =
      R"({"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}})";
  a["SubscriptionsConfirmed"] = std::to_string(confirmed);
  a["DisplayName"] = "";
  a["SubscriptionsDeleted"] = "0";
  if (t->fifo) {
    a["FifoTopic"] = "true";
    a["ContentBasedDeduplication"] = "false";
  }
  for (const auto& [k, v] : t->attributes.items()) a[k] = v;
  return Json{{"Attributes", a}};
}

Status Registry::SetTopicAttribute(const std::string& arn, const std::string& name,
                                   const std::string& value) {
  static const std::vector<std::string> settable = {
      "DeliveryPolicy", "DisplayName", "Policy", "KmsMasterKeyId", "SignatureVersion",
      "TracingConfig", "ContentBasedDeduplication", "ArchivePolicy", "DataProtectionPolicy",
      "FifoThroughputScope"};
  if (std::find(settable.begin(), settable.end(), name) == settable.end() &&
      !EndsWith(name, "FeedbackRoleArn") && !EndsWith(name, "FeedbackSampleRate")) {
    return InvalidParameter("AttributeName");
  }
  if (name == "SignatureVersion" && value != "1" && value != "2") {
    return InvalidParameter("SignatureVersion: Invalid value [" + value + "]. Must be 1 or 2.");
  }
  std::unique_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return NotFound("Topic does not exist");
  auto t = std::make_shared<Topic>(*it->second);
  if (name == "ContentBasedDeduplication" && !t->fifo) {
    return InvalidParameter("ContentBasedDeduplication: Content-based deduplication can only be "
                            "set for FIFO topics");
  }
  t->attributes[name] = value;
  t->content_dedup = t->attributes.value("ContentBasedDeduplication", "false") == "true";
  STRATUS_RETURN_IF_ERROR(SaveTopic(*t));
  it->second = t;
  return Status::Ok();
}

Result<Json> Registry::ListTopics(const std::string& account, const std::string& region,
                                  const std::string& next_token) const {
  std::string after = Page(next_token);
  std::string prefix = "arn:aws:sns:" + region + ":" + account + ":";
  Json list = Json::array();
  std::string last;
  std::shared_lock lock(mu_);
  for (auto it = topics_.upper_bound(after); it != topics_.end(); ++it) {
    if (!StartsWith(it->first, prefix)) continue;
    if (list.size() == kPageSize) {
      return Json{{"Topics", list}, {"NextToken", Base64Encode(last)}};
    }
    list.push_back(Json{{"TopicArn", it->first}});
    last = it->first;
  }
  return Json{{"Topics", list}};
}

Status Registry::TagResource(const std::string& arn, const Json& tags) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return Error("ResourceNotFound", "Resource does not exist", 404);
  auto t = std::make_shared<Topic>(*it->second);
  for (const auto& tag : tags) t->tags[tag.value("Key", "")] = tag.value("Value", "");
  if (t->tags.size() > 50) {
    return Error("TagLimitExceeded", "Could not complete request: tag quota of per resource exceeded");
  }
  STRATUS_RETURN_IF_ERROR(SaveTopic(*t));
  it->second = t;
  return Status::Ok();
}

Status Registry::UntagResource(const std::string& arn, const Json& keys) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return Error("ResourceNotFound", "Resource does not exist", 404);
  auto t = std::make_shared<Topic>(*it->second);
  for (const auto& k : keys) t->tags.erase(k.get<std::string>());
  STRATUS_RETURN_IF_ERROR(SaveTopic(*t));
  it->second = t;
  return Status::Ok();
}

Result<Json> Registry::ListTags(const std::string& arn) const {
  std::shared_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return Error("ResourceNotFound", "Resource does not exist", 404);
  Json tags = Json::array();
  for (const auto& [k, v] : it->second->tags.items()) tags.push_back(Json{{"Key", k}, {"Value", v}});
  return Json{{"Tags", tags}};
}

Status Registry::AddPermission(const std::string& arn, const Json& in) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return NotFound("Topic does not exist");
  auto t = std::make_shared<Topic>(*it->second);
  Json policy = ParseJsonOrDiscarded(t->attributes.value("Policy", DefaultPolicy(*t)));
  std::string label = in.value("Label", "");
  for (const auto& st : policy["Statement"]) {
    if (st.value("Sid", "") == label) return InvalidParameter("Statement already exists");
  }
  Json principals = Json::array();
  for (const auto& a : in.value("AWSAccountId", Json::array())) {
    principals.push_back("arn:aws:iam::" + a.get<std::string>() + ":root");
  }
  Json actions = Json::array();
  for (const auto& a : in.value("ActionName", Json::array())) actions.push_back("SNS:" + a.get<std::string>());
  policy["Statement"].push_back(Json{{"Sid", label}, {"Effect", "Allow"},
                                     {"Principal", Json{{"AWS", principals}}},
                                     {"Action", actions}, {"Resource", arn}});
  t->attributes["Policy"] = policy.dump();
  STRATUS_RETURN_IF_ERROR(SaveTopic(*t));
  it->second = t;
  return Status::Ok();
}

Status Registry::RemovePermission(const std::string& arn, const std::string& label) {
  std::unique_lock lock(mu_);
  auto it = topics_.find(arn);
  if (it == topics_.end()) return NotFound("Topic does not exist");
  auto t = std::make_shared<Topic>(*it->second);
  Json policy = ParseJsonOrDiscarded(t->attributes.value("Policy", DefaultPolicy(*t)));
  Json kept = Json::array();
  for (const auto& st : policy["Statement"]) {
    if (st.value("Sid", "") != label) kept.push_back(st);
  }
  policy["Statement"] = kept;
  t->attributes["Policy"] = policy.dump();
  STRATUS_RETURN_IF_ERROR(SaveTopic(*t));
  it->second = t;
  return Status::Ok();
}

void Registry::ReplaceSubscriptionLocked(const std::string& topic_arn,
                                         std::shared_ptr<const Subscription> sub,
                                         const std::string& remove_arn) {
  auto it = topics_.find(topic_arn);
  if (it == topics_.end()) return;
  auto t = std::make_shared<Topic>(*it->second);
  auto& list = t->subscriptions;
  std::string arn = sub ? sub->arn : remove_arn;
  auto pos = std::find_if(list.begin(), list.end(), [&](const auto& s) { return s->arn == arn; });
  if (sub) {
    subs_[sub->arn] = sub;
    if (pos == list.end()) {
      list.push_back(std::move(sub));
    } else {
      *pos = std::move(sub);
    }
  } else {
    subs_.erase(arn);
    if (pos != list.end()) list.erase(pos);
  }
  it->second = t;
}

Result<std::shared_ptr<const Subscription>> Registry::Subscribe(const std::string& account,
                                                               const Json& in, bool* created) {
  std::string topic_arn = in.value("TopicArn", "");
  std::string protocol = ToLower(in.value("Protocol", ""));
  std::string endpoint = in.value("Endpoint", "");
  static const std::vector<std::string> protocols = {"http", "https", "email", "email-json", "sms",
                                                     "sqs", "lambda", "application", "firehose"};
  if (std::find(protocols.begin(), protocols.end(), protocol) == protocols.end()) {
    return InvalidParameter("Amazon SNS does not support this protocol string: " + protocol);
  }
  if (protocol == "application" || protocol == "firehose") {
    return Error("NotImplemented", "Subscriptions with protocol " + protocol +
                                       " are not implemented in stratus (see docs/sns.md).", 501, false);
  }
  if ((protocol == "http" && !StartsWith(endpoint, "http://")) ||
      (protocol == "https" && !StartsWith(endpoint, "https://"))) {
    return InvalidParameter("Invalid endpoint for protocol " + protocol);
  }
  if ((protocol == "sqs" && !StartsWith(endpoint, "arn:aws:sqs:")) ||
      (protocol == "lambda" && !StartsWith(endpoint, "arn:aws:lambda:"))) {
    return InvalidParameter(protocol == "sqs" ? "SQS endpoint ARN" : "Lambda endpoint ARN");
  }
  if ((protocol == "email" || protocol == "email-json") && endpoint.find('@') == std::string::npos) {
    return InvalidParameter("Email address");
  }
  STRATUS_ASSIGN_OR_RETURN(auto topic, GetTopic(topic_arn));
  auto sub = std::make_shared<Subscription>();
  sub->topic_arn = topic_arn;
  sub->owner = account;
  sub->protocol = protocol;
  sub->endpoint = endpoint;
  Json attrs = in.value("Attributes", Json::object());
  for (const char* name : {"RawMessageDelivery", "FilterPolicyScope", "FilterPolicy", "RedrivePolicy",
                           "DeliveryPolicy", "SubscriptionRoleArn", "ReplayPolicy"}) {
    if (attrs.contains(name)) {
      STRATUS_RETURN_IF_ERROR(ApplySubscriptionAttribute(*sub, name, attrs[name].get<std::string>(), true));
    }
  }
  for (const auto& [k, _] : attrs.items()) {
    Subscription probe;
    if (k != "RawMessageDelivery" && k != "FilterPolicyScope" && k != "FilterPolicy" &&
        k != "RedrivePolicy" && k != "DeliveryPolicy" && k != "SubscriptionRoleArn" &&
        k != "ReplayPolicy") {
      return InvalidParameter("Attributes Reason: Unknown attribute " + k);
    }
  }
  std::unique_lock lock(mu_);
  // The topic as it is now, not the copy taken before the lock: an identical Subscribe or a
  // DeleteTopic may have changed it meanwhile (two copies of one subscription; one stored for a
  // deleted topic, which a restart attached to a new topic of that name).
  auto current = topics_.find(topic_arn);
  if (current == topics_.end()) return NotFound("Topic does not exist");
  for (const auto& s : current->second->subscriptions) {
    if (s->protocol == protocol && s->endpoint == endpoint) {
      *created = false;
      bool same = s->raw == sub->raw && s->filter_policy == sub->filter_policy;
      if (!same && !attrs.empty()) {
        return InvalidParameter("Attributes Reason: Subscription already exists with different attributes");
      }
      return std::shared_ptr<const Subscription>(s);
    }
  }
  sub->arn = topic_arn + ":" + NewUuid();
  sub->pending = protocol == "http" || protocol == "https" || protocol == "email" ||
                 protocol == "email-json";
  if (sub->pending) sub->token = HexEncode(RandomBytes(64));
  STRATUS_RETURN_IF_ERROR(SaveSubscription(*sub));
  *created = true;
  std::shared_ptr<const Subscription> out = sub;
  ReplaceSubscriptionLocked(topic_arn, out, "");
  return out;
}

Result<std::shared_ptr<const Subscription>> Registry::GetSubscription(const std::string& arn) const {
  std::shared_lock lock(mu_);
  auto it = subs_.find(arn);
  if (it == subs_.end()) return NotFound("Subscription does not exist");
  return it->second;
}

Status Registry::Unsubscribe(const std::string& arn, const UnsubscribeHook& hook) {
  std::unique_lock lock(mu_);
  auto it = subs_.find(arn);
  if (it == subs_.end()) return Status::Ok();
  const Subscription& sub = *it->second;
  std::string key = std::string(kSubPrefix) + arn;
  std::string token;
  std::string restore;  // the record Confirm restores from
  if (sub.protocol == "http" || sub.protocol == "https") {
    token = HexEncode(RandomBytes(64));
    Subscription kept = sub;
    kept.pending = false;
    kept.token.clear();
    Json j = SubToJson(kept);
    j["restorable_until"] = clock_.NowMillis() + kRestoreWindowMs;
    restore = j.dump();
  }
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Delete(key));
    if (token.empty()) return Status::Ok();
    STRATUS_RETURN_IF_ERROR(txn.Put(std::string(kUnsubPrefix) + token, restore));
    return hook ? hook(txn, sub, token) : Status::Ok();
  }));
  std::string topic = it->second->topic_arn;
  ReplaceSubscriptionLocked(topic, nullptr, arn);
  return Status::Ok();
}

Result<std::shared_ptr<const Subscription>> Registry::Confirm(const std::string& topic_arn,
                                                             const std::string& token) {
  std::unique_lock lock(mu_);
  if (topics_.find(topic_arn) == topics_.end()) return NotFound("Topic does not exist");
  for (const auto& [arn, s] : subs_) {
    if (s->topic_arn != topic_arn || s->token != token || token.empty()) continue;
    auto c = std::make_shared<Subscription>(*s);
    c->pending = false;
    c->authenticated = false;
    STRATUS_RETURN_IF_ERROR(SaveSubscription(*c));
    std::shared_ptr<const Subscription> out = c;
    ReplaceSubscriptionLocked(topic_arn, out, "");
    return out;
  }
  // An UnsubscribeConfirmation's token restores the subscription it removed.
  if (token.empty()) return InvalidParameter("Token");
  std::string unsub_key = std::string(kUnsubPrefix) + token;
  STRATUS_ASSIGN_OR_RETURN(auto kept, store_.Get(unsub_key));
  if (!kept) return InvalidParameter("Token");
  Json j = ParseJsonOrDiscarded(*kept);
  auto c = std::make_shared<Subscription>();
  if (!SubFromJson(j, *c) || c->topic_arn != topic_arn) return InvalidParameter("Token");
  for (const auto& s : topics_[topic_arn]->subscriptions) {
    if (s->protocol == c->protocol && s->endpoint == c->endpoint) return s;  // subscribed again
  }
  bool expired = j.value("restorable_until", int64_t{0}) < clock_.NowMillis();
  std::string sub_key = std::string(kSubPrefix) + c->arn;
  std::string value = SubToJson(*c).dump();
  STRATUS_RETURN_IF_ERROR(store_.Write([&](store::WriteTxn& txn) -> Status {
    STRATUS_RETURN_IF_ERROR(txn.Delete(unsub_key));
    return expired ? Status::Ok() : txn.Put(sub_key, value);
  }));
  if (expired) return InvalidParameter("Token");
  std::shared_ptr<const Subscription> out = c;
  ReplaceSubscriptionLocked(topic_arn, out, "");
  return out;
}

Result<Json> Registry::GetSubscriptionAttributes(const std::string& arn) const {
  STRATUS_ASSIGN_OR_RETURN(auto s, GetSubscription(arn));
  std::map<std::string, std::string> a;
  a["ConfirmationWasAuthenticated"] = s->authenticated ? "true" : "false";
  a["Endpoint"] = s->endpoint;
  a["Owner"] = s->owner;
  a["PendingConfirmation"] = s->pending ? "true" : "false";
  a["Protocol"] = s->protocol;
  a["RawMessageDelivery"] = s->raw ? "true" : "false";
  a["SubscriptionArn"] = s->arn;
  a["SubscriptionPrincipal"] = "arn:aws:iam::" + s->owner + ":root";
  a["TopicArn"] = s->topic_arn;
  if (!s->filter_policy.empty()) {
    a["FilterPolicy"] = s->filter_policy;
    a["FilterPolicyScope"] = s->filter_scope.empty() ? "MessageAttributes" : s->filter_scope;
  }
  for (const auto& [k, v] : s->attributes.items()) a[k] = v.get<std::string>();
  if (s->protocol == "http" || s->protocol == "https") {
    a["EffectiveDeliveryPolicy"] = s->attributes.value(
        "DeliveryPolicy",
        R"({"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"}})");
  }
  Json out = Json::object();
  for (const auto& [k, v] : a) out[k] = v;
  return Json{{"Attributes", out}};
}

Status Registry::SetSubscriptionAttribute(const std::string& arn, const std::string& name,
                                          const std::string& value) {
  std::unique_lock lock(mu_);
  auto it = subs_.find(arn);
  if (it == subs_.end()) return NotFound("Subscription does not exist");
  auto s = std::make_shared<Subscription>(*it->second);
  STRATUS_RETURN_IF_ERROR(ApplySubscriptionAttribute(*s, name, value, false));
  STRATUS_RETURN_IF_ERROR(SaveSubscription(*s));
  std::string topic = s->topic_arn;
  ReplaceSubscriptionLocked(topic, s, "");
  return Status::Ok();
}

Result<Json> Registry::ListSubscriptions(const std::string& account, const std::string& topic_arn,
                                         const std::string& next_token) const {
  std::string after = Page(next_token);
  std::vector<std::shared_ptr<const Subscription>> all;
  {
    std::shared_lock lock(mu_);
    if (!topic_arn.empty()) {
      auto it = topics_.find(topic_arn);
      if (it == topics_.end()) return NotFound("Topic does not exist");
      all = it->second->subscriptions;
    } else {
      for (const auto& [_, s] : subs_) {
        if (s->owner == account) all.push_back(s);
      }
    }
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a->arn < b->arn; });
  Json list = Json::array();
  std::string last;
  for (const auto& s : all) {
    if (!after.empty() && s->arn <= after) continue;
    if (list.size() == kPageSize) {
      return Json{{"Subscriptions", list}, {"NextToken", Base64Encode(last)}};
    }
    list.push_back(Json{{"SubscriptionArn", s->pending ? "PendingConfirmation" : s->arn},
                        {"Owner", s->owner},
                        {"Protocol", s->protocol},
                        {"Endpoint", s->endpoint},
                        {"TopicArn", s->topic_arn}});
    last = s->arn;
  }
  return Json{{"Subscriptions", list}};
}

}  // namespace stratus::services::sns
