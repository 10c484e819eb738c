#include "services/iam/resources.h"

#include <unordered_map>

#include "core/strings.h"

namespace stratus::services::iam {

namespace {

// One way an input member names a resource. In `pattern`, {region} and {account} are the
// request's, {v} is the member's value, {last}/{last2} its last/second-last '/' segment and
// {Member} any other string member of the input. With `arn_ok`, a value that already is an ARN
// is used as it is.
struct ArnRule {
  const char* member;
  const char* pattern;
  bool arn_ok = true;
  const char* operation = nullptr;  // only for this operation (null: any)
};

struct ServiceTable {
  const char* prefix;
  std::vector<ArnRule> rules;
  std::unordered_map<std::string, std::string> actions;  // operation → action name override
};

const std::unordered_map<std::string, ServiceTable>& Tables() {
  static const std::unordered_map<std::string, ServiceTable> kTables = {
      {"sqs", {"sqs", {{"QueueUrl", "arn:aws:sqs:{region}:{last2}:{last}", false},
                       {"QueueName", "arn:aws:sqs:{region}:{account}:{v}", false},
                       {"SourceArn", "{v}"}, {"TaskHandle", "*", false}}, {}}},
      {"sns", {"sns", {{"TopicArn", "{v}"}, {"TargetArn", "{v}"}, {"SubscriptionArn", "{v}"},
                       {"ResourceArn", "{v}"},
                       {"Name", "arn:aws:sns:{region}:{account}:{v}", false, "CreateTopic"}}, {}}},
      {"lambda", {"lambda",
                  {{"FunctionName", "arn:aws:lambda:{region}:{account}:function:{v}"},
                   {"Resource", "{v}"}, {"ARN", "{v}"},
                   {"LayerName", "arn:aws:lambda:{region}:{account}:layer:{v}"},
                   {"UUID", "arn:aws:lambda:{region}:{account}:event-source-mapping:{v}", false}},
                  {{"Invoke", "InvokeFunction"}, {"InvokeWithResponseStream", "InvokeFunction"},
                   {"ListTags", "ListTags"}}}},
      {"dynamodb", {"dynamodb", {{"TableName", "arn:aws:dynamodb:{region}:{account}:table/{v}"},
                                 {"ResourceArn", "{v}"}, {"StreamArn", "{v}"},
                                 {"BackupArn", "{v}"}, {"GlobalTableName", "arn:aws:dynamodb::{account}:global-table/{v}", false}},
                    {}}},
      {"dynamodbstreams", {"dynamodb", {{"StreamArn", "{v}"}}, {}}},
      {"stepfunctions", {"states",
                         {{"stateMachineArn", "{v}"}, {"executionArn", "{v}"}, {"activityArn", "{v}"},
                          {"resourceArn", "{v}"}, {"mapRunArn", "{v}"},
                          {"name", "arn:aws:states:{region}:{account}:stateMachine:{v}", false, "CreateStateMachine"},
                          {"name", "arn:aws:states:{region}:{account}:activity:{v}", false, "CreateActivity"}},
                         {}}},
      {"logs", {"logs", {{"logStreamName", "arn:aws:logs:{region}:{account}:log-group:{logGroupName}:log-stream:{v}", false},
                         {"logGroupName", "arn:aws:logs:{region}:{account}:log-group:{v}", false},
                         {"logGroupIdentifier", "arn:aws:logs:{region}:{account}:log-group:{v}"},
                         {"resourceArn", "{v}"}},
                {}}},
      {"cognito-idp", {"cognito-idp", {{"UserPoolId", "arn:aws:cognito-idp:{region}:{account}:userpool/{v}", false},
                                       {"ResourceArn", "{v}"}}, {}}},
      {"iam", {"iam", {{"UserName", "arn:aws:iam::{account}:user/{v}", false},
                       {"RoleName", "arn:aws:iam::{account}:role/{v}", false},
                       {"GroupName", "arn:aws:iam::{account}:group/{v}", false},
                       {"InstanceProfileName", "arn:aws:iam::{account}:instance-profile/{v}", false},
                       {"PolicyArn", "{v}"}, {"OpenIDConnectProviderArn", "{v}"},
                       {"SAMLProviderArn", "{v}"},
                       {"PolicyName", "arn:aws:iam::{account}:policy/{v}", false, "CreatePolicy"}},
               {}}},
      {"sts", {"sts", {{"RoleArn", "{v}"},
                       {"Name", "arn:aws:sts::{account}:federated-user/{v}", false, "GetFederationToken"}},
               {}}},
      {"s3", {"s3", {},
              {{"ListObjects", "ListBucket"}, {"ListObjectsV2", "ListBucket"},
               {"HeadBucket", "ListBucket"}, {"ListObjectVersions", "ListBucketVersions"},
               {"HeadObject", "GetObject"}, {"CopyObject", "PutObject"},
               {"CreateMultipartUpload", "PutObject"}, {"UploadPart", "PutObject"},
               {"UploadPartCopy", "PutObject"}, {"CompleteMultipartUpload", "PutObject"},
               {"ListMultipartUploads", "ListBucketMultipartUploads"},
               {"ListParts", "ListMultipartUploadParts"}, {"DeleteObjects", "DeleteObject"},
               {"ListBuckets", "ListAllMyBuckets"}, {"GetBucketCors", "GetBucketCORS"},
               {"PutBucketCors", "PutBucketCORS"}, {"DeleteBucketCors", "PutBucketCORS"},
               {"GetBucketNotificationConfiguration", "GetBucketNotification"},
               {"PutBucketNotificationConfiguration", "PutBucketNotification"},
               {"GetBucketLifecycleConfiguration", "GetLifecycleConfiguration"},
               {"PutBucketLifecycleConfiguration", "PutLifecycleConfiguration"},
               {"DeleteBucketLifecycle", "PutLifecycleConfiguration"},
               {"GetBucketEncryption", "GetEncryptionConfiguration"},
               {"PutBucketEncryption", "PutEncryptionConfiguration"},
               {"DeleteBucketEncryption", "PutEncryptionConfiguration"},
               {"DeleteBucketTagging", "PutBucketTagging"},
               {"DeleteBucketOwnershipControls", "PutBucketOwnershipControls"},
               {"DeleteBucketWebsite", "DeleteBucketWebsite"},
               {"GetObjectAttributes", "GetObjectAttributes"},
               {"DeletePublicAccessBlock", "PutBucketPublicAccessBlock"},
               {"PutPublicAccessBlock", "PutBucketPublicAccessBlock"},
               {"GetPublicAccessBlock", "GetBucketPublicAccessBlock"}}}},
  };
  return kTables;
}

std::string LastSegment(std::string_view v, int from_end) {
  auto parts = Split(v, '/');
  std::erase_if(parts, [](const std::string& p) { return p.empty(); });
  if (parts.size() < static_cast<size_t>(from_end)) return {};
  return parts[parts.size() - from_end];
}

std::string Fill(std::string_view pattern, const std::string& value, const Json& input,
                 const std::string& account, const std::string& region) {
  std::string out;
  size_t pos = 0;
  while (pos < pattern.size()) {
    size_t open = pattern.find('{', pos);
    if (open == std::string_view::npos) break;
    size_t close = pattern.find('}', open);
    if (close == std::string_view::npos) break;
    out.append(pattern.substr(pos, open - pos));
    std::string name(pattern.substr(open + 1, close - open - 1));
    if (name == "region") {
      out += region;
    } else if (name == "account") {
      out += account;
    } else if (name == "v") {
      out += value;
    } else if (name == "last") {
      out += LastSegment(value, 1);
    } else if (name == "last2") {
      out += LastSegment(value, 2);
    } else {
      out += input.value(name, "");
    }
    pos = close + 1;
  }
  out.append(pattern.substr(pos));
  return out;
}

// API Gateway: apigateway:<METHOD> on arn:aws:apigateway:<region>::<path with members filled>.
OperationTarget ApiGatewayTarget(const aws::Operation& op, const Json& input,
                                 const std::string& region) {
  std::string path = op.request_uri.substr(0, op.request_uri.find('?'));
  std::string filled;
  size_t pos = 0;
  while (pos < path.size()) {
    size_t open = path.find('{', pos);
    if (open == std::string::npos) break;
    size_t close = path.find('}', open);
    if (close == std::string::npos) break;
    filled.append(path, pos, open - pos);
    std::string member = path.substr(open + 1, close - open - 1);
    if (!member.empty() && member.back() == '+') member.pop_back();
    auto it = input.find(member);
    filled += (it != input.end() && it->is_string()) ? it->get<std::string>() : "*";
    pos = close + 1;
  }
  filled.append(path, pos);
  return OperationTarget{"apigateway:" + op.http_method, {"arn:aws:apigateway:" + region + "::" + filled}};
}

// S3: the bucket, or the object when the operation names a key.
std::vector<std::string> S3Resources(const Json& input) {
  std::string bucket = input.value("Bucket", "");
  if (bucket.empty()) return {"*"};
  std::string key = input.value("Key", "");
  if (!key.empty()) return {"arn:aws:s3:::" + bucket + "/" + key};
  if (input.contains("Delete")) {
    std::vector<std::string> out;
    for (const auto& o : input["Delete"].value("Objects", Json::array())) {
      out.push_back("arn:aws:s3:::" + bucket + "/" + o.value("Key", ""));
    }
    if (!out.empty()) return out;
  }
  return {"arn:aws:s3:::" + bucket};
}

// DynamoDB batch and transaction operations name several tables.
void DynamoTables(const Json& input, const std::string& account, const std::string& region,
                  std::vector<std::string>& out) {
  auto table = [&](const std::string& name) {
    out.push_back(StartsWith(name, "arn:") ? name
                                           : "arn:aws:dynamodb:" + region + ":" + account + ":table/" + name);
  };
  if (auto it = input.find("RequestItems"); it != input.end() && it->is_object()) {
    for (auto t = it->begin(); t != it->end(); ++t) table(t.key());
  }
  if (auto it = input.find("TransactItems"); it != input.end() && it->is_array()) {
    for (const auto& item : *it) {
      if (!item.is_object()) continue;
      for (auto m = item.begin(); m != item.end(); ++m) {
        if (m->is_object() && m->contains("TableName")) table(m->value("TableName", ""));
      }
    }
  }
}

}  // namespace

std::string ActionPrefix(const std::string& service) {
  auto it = Tables().find(service);
  if (it != Tables().end()) return it->second.prefix;
  if (service == "apigateway" || service == "apigatewayv2") return "apigateway";
  return service;
}

OperationTarget TargetOf(const std::string& service, const aws::Operation& op, const Json& input,
                         const std::string& account, const std::string& region) {
  if (service == "apigateway" || service == "apigatewayv2") {
    return ApiGatewayTarget(op, input, region);
  }
  OperationTarget t;
  auto it = Tables().find(service);
  if (it == Tables().end()) {
    t.action = service + ":" + op.name;
    t.resources = {"*"};
    return t;
  }
  const ServiceTable& table = it->second;
  auto action = table.actions.find(op.name);
  t.action = std::string(table.prefix) + ":" + (action == table.actions.end() ? op.name : action->second);
  if (service == "s3") {
    if (input.contains("VersionId") && (op.name == "GetObject" || op.name == "HeadObject")) {
      t.action = "s3:GetObjectVersion";
    } else if (input.contains("VersionId") && op.name == "DeleteObject") {
      t.action = "s3:DeleteObjectVersion";
    }
    t.resources = S3Resources(input);
    return t;
  }
  if (service == "dynamodb") DynamoTables(input, account, region, t.resources);
  if (t.resources.empty()) {
    for (const ArnRule& rule : table.rules) {
      if (rule.operation && op.name != rule.operation) continue;
      auto m = input.find(rule.member);
      if (m == input.end() || !m->is_string() || m->get<std::string>().empty()) continue;
      std::string value = m->get<std::string>();
      if (rule.arn_ok && StartsWith(value, "arn:")) {
        t.resources.push_back(value);
      } else if (service == "lambda" && value.find(":function:") != std::string::npos) {
        t.resources.push_back("arn:aws:lambda:" + region + ":" + value);  // "123:function:f"
      } else {
        t.resources.push_back(Fill(rule.pattern, value, input, account, region));
      }
      break;
    }
  }
  if (service == "lambda" && t.resources.size() == 1 && input.contains("Qualifier") &&
      t.resources[0].find(":function:") != std::string::npos) {
    t.resources[0] += ":" + input.value("Qualifier", "");
  }
  if (t.resources.empty()) t.resources.push_back("*");
  return t;
}

void AddInputKeys(const std::string& service, const Json& input,
                  identity::policy::RequestContext& context) {
  std::vector<std::string> tag_keys;
  auto add_tag = [&](const std::string& k, const std::string& v) {
    context.Set("aws:RequestTag/" + k, v);
    tag_keys.push_back(k);
  };
  for (const char* member : {"Tags", "tags"}) {
    auto it = input.find(member);
    if (it == input.end()) continue;
    if (it->is_array()) {
      for (const auto& t : *it) {
        if (t.is_object()) add_tag(t.value("Key", t.value("key", "")), t.value("Value", t.value("value", "")));
      }
    } else if (it->is_object()) {
      for (auto t = it->begin(); t != it->end(); ++t) {
        if (t->is_string()) add_tag(t.key(), t->get<std::string>());
      }
    }
  }
  if (!tag_keys.empty()) context.SetMulti("aws:TagKeys", std::move(tag_keys));
  if (service == "s3") {
    if (input.contains("Prefix")) context.Set("s3:prefix", input.value("Prefix", ""));
    if (input.contains("Delimiter")) context.Set("s3:delimiter", input.value("Delimiter", ""));
    if (input.contains("MaxKeys")) context.Set("s3:max-keys", std::to_string(input.value("MaxKeys", 0)));
  } else if (service == "sts") {
    if (input.contains("ExternalId")) context.Set("sts:ExternalId", input.value("ExternalId", ""));
    if (input.contains("RoleSessionName")) context.Set("sts:RoleSessionName", input.value("RoleSessionName", ""));
    if (input.contains("SourceIdentity")) context.Set("sts:SourceIdentity", input.value("SourceIdentity", ""));
    if (auto it = input.find("TransitiveTagKeys"); it != input.end() && it->is_array()) {
      std::vector<std::string> keys;
      for (const auto& k : *it) {
        if (k.is_string()) keys.push_back(k.get<std::string>());
      }
      context.SetMulti("sts:TransitiveTagKeys", std::move(keys));
    }
  }
}

std::optional<aws::InternalCall> ResourcePolicyCall(const std::string& resource,
                                                    const Json& input,
                                                    const std::string& account,
                                                    const std::string& region) {
  aws::InternalCall c;
  c.account = account;
  c.region = region;
  if (StartsWith(resource, "arn:aws:sqs:")) {
    std::string url = input.value("QueueUrl", "");
    if (url.empty()) return std::nullopt;
    c.service = "sqs";
    c.operation = "GetQueueAttributes";
    c.input = Json{{"QueueUrl", url}, {"AttributeNames", Json::array({"Policy"})}};
  } else if (StartsWith(resource, "arn:aws:sns:")) {
    c.service = "sns";
    c.operation = "GetTopicAttributes";
    // A subscription ARN is the topic ARN plus a suffix: the topic's policy governs it.
    std::string topic = resource;
    auto colons = std::count(topic.begin(), topic.end(), ':');
    if (colons > 5) topic = topic.substr(0, topic.rfind(':'));
    c.input = Json{{"TopicArn", topic}};
  } else if (StartsWith(resource, "arn:aws:lambda:") &&
             resource.find(":function:") != std::string::npos) {
    c.service = "lambda";
    c.operation = "GetPolicy";
    std::string fn = resource;
    auto pos = fn.find(":function:");
    auto qual = fn.find(':', pos + 10);
    c.input = Json{{"FunctionName", fn.substr(0, qual)}};
    if (qual != std::string::npos) c.input["Qualifier"] = fn.substr(qual + 1);
  } else if (StartsWith(resource, "arn:aws:s3:::")) {
    std::string bucket = resource.substr(13);
    bucket = bucket.substr(0, bucket.find('/'));
    if (bucket.empty() || bucket == "*") return std::nullopt;
    c.service = "s3";
    c.operation = "GetBucketPolicy";
    c.input = Json{{"Bucket", bucket}};
  } else {
    return std::nullopt;
  }
  return c;
}

std::string ResourcePolicyFrom(const std::string& resource, const aws::OperationOutput& output) {
  const Json& body = output.body;
  if (auto attrs = body.find("Attributes"); attrs != body.end() && attrs->is_object()) {
    return attrs->value("Policy", "");
  }
  if (auto p = body.find("Policy"); p != body.end() && p->is_string()) return p->get<std::string>();
  if (output.payload) return *output.payload;
  return {};
}

}  // namespace stratus::services::iam
