#pragma once
// SNS topics and subscriptions on store::Store, cached in memory (the publish path reads the
// cache, never the store). Keys: sns/topic/<topic arn> and sns/sub/<subscription arn>, JSON.
// Every change is written through before it is acknowledged.
//
// Thread-safe: the registry is guarded by a shared mutex; Topic and Subscription values are
// immutable once published in it (a change replaces the shared_ptr).
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/result.h"
#include "services/sns/filter_policy.h"
#include "store/store.h"

namespace stratus::services::sns {

struct Subscription {
  std::string arn;
  std::string topic_arn;
  std::string owner;
  std::string protocol;
  std::string endpoint;
  bool pending = false;
  bool authenticated = true;
  std::string token;                 // confirmation token (pending subscriptions)
  bool raw = false;
  std::string filter_policy;         // the text as set; "" = none
  std::string filter_scope;          // "" = never set (MessageAttributes)
  std::shared_ptr<const FilterPolicy> filter;
  Json attributes = Json::object();  // DeliveryPolicy, RedrivePolicy, SubscriptionRoleArn, ...
};

struct Topic {
  std::string arn;
  std::string name;
  std::string account;
  std::string region;
  Json attributes = Json::object();  // as set
  Json tags = Json::object();
  bool fifo = false;
  bool content_dedup = false;
  std::vector<std::shared_ptr<const Subscription>> subscriptions;
};

// How long an unsubscribed http/https subscription can be restored (AWS: 3 days).
inline constexpr int64_t kRestoreWindowMs = int64_t{3} * 24 * 3600 * 1000;

Error InvalidParameter(const std::string& what);  // "Invalid parameter: <what>"
Error NotFound(const std::string& message);

class Registry {
 public:
  Registry(store::Store& store, const Clock& clock) : store_(store), clock_(clock) {}
  Status Load();

  Result<Json> CreateTopic(const std::string& account, const std::string& region, const Json& in);
  Status DeleteTopic(const std::string& arn);
  Result<std::shared_ptr<const Topic>> GetTopic(const std::string& arn) const;
  Result<Json> GetTopicAttributes(const std::string& arn) const;
  Status SetTopicAttribute(const std::string& arn, const std::string& name, const std::string& value);
  Result<Json> ListTopics(const std::string& account, const std::string& region,
                          const std::string& next_token) const;
  Status TagResource(const std::string& arn, const Json& tags);
  Status UntagResource(const std::string& arn, const Json& keys);
  Result<Json> ListTags(const std::string& arn) const;
  Status AddPermission(const std::string& arn, const Json& in);
  Status RemovePermission(const std::string& arn, const std::string& label);

  // Subscribe: validates the attributes (AWS's "Attributes Reason:" messages); returns the
  // subscription (new or an identical existing one) and whether it is new.
  Result<std::shared_ptr<const Subscription>> Subscribe(const std::string& account,
                                                        const Json& in, bool* created);
  Result<std::shared_ptr<const Subscription>> GetSubscription(const std::string& arn) const;
  // Called inside Unsubscribe's write for an http/https subscription, with the removed
  // subscription and the token that restores it (to queue its UnsubscribeConfirmation).
  using UnsubscribeHook =
      std::function<Status(store::WriteTxn&, const Subscription&, const std::string& token)>;
  // Removes a subscription; Ok when there is none. An http/https subscription leaves a record
  // under sns/unsub/<token> for kRestoreWindowMs, so that Confirm with that token (the
  // UnsubscribeConfirmation's SubscribeURL) restores it, as AWS does.
  Status Unsubscribe(const std::string& arn, const UnsubscribeHook& hook = nullptr);
  // Confirms the pending subscription with `token`, or restores the unsubscribed one whose
  // UnsubscribeConfirmation carried it. InvalidParameter "Token" otherwise.
  Result<std::shared_ptr<const Subscription>> Confirm(const std::string& topic_arn,
                                                      const std::string& token);
  Result<Json> GetSubscriptionAttributes(const std::string& arn) const;
  Status SetSubscriptionAttribute(const std::string& arn, const std::string& name,
                                  const std::string& value);
  Result<Json> ListSubscriptions(const std::string& account, const std::string& topic_arn,
                                 const std::string& next_token) const;

 private:
  Status SaveTopic(const Topic& t);
  Status SaveSubscription(const Subscription& s);
  // Replaces a subscription in its topic's list (or adds/removes it). Caller holds mu_ unique.
  void ReplaceSubscriptionLocked(const std::string& topic_arn,
                                 std::shared_ptr<const Subscription> sub, const std::string& remove_arn);

  store::Store& store_;
  const Clock& clock_;
  mutable std::shared_mutex mu_;  // guards topics_, subs_
  std::map<std::string, std::shared_ptr<const Topic>> topics_;
  std::unordered_map<std::string, std::shared_ptr<const Subscription>> subs_;
};

// Validates one subscription attribute and applies it to `sub` (Subscribe and
// SetSubscriptionAttributes share it; `via_subscribe` selects AWS's message prefix).
Status ApplySubscriptionAttribute(Subscription& sub, const std::string& name,
                                  const std::string& value, bool via_subscribe);

}  // namespace stratus::services::sns
