#include "services/s3/website.h"

#include "core/strings.h"
#include "core/time_format.h"
#include "services/s3/checksums.h"

namespace stratus::services::s3 {

namespace {

HttpResponse HtmlError(int status, const std::string& code, const std::string& message,
                       const std::string& key, const std::string& request_id) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", "text/html; charset=utf-8");
  r.headers.Set("x-amz-request-id", request_id);
  std::string title = std::to_string(status) + " " + std::string(StatusReason(status));
  r.body = "<html>\n<head><title>" + title + "</title></head>\n<body>\n<h1>" + title +
           "</h1>\n<ul>\n<li>Code: " + XmlEscape(code) + "</li>\n<li>Message: " +
           XmlEscape(message) + "</li>\n";
  if (!key.empty()) r.body += "<li>Key: " + XmlEscape(key) + "</li>\n";
  r.body += "<li>RequestId: " + request_id + "</li>\n<li>HostId: " + request_id +
            "</li>\n</ul>\n<hr/>\n</body>\n</html>\n";
  return r;
}

HttpResponse Redirect(int status, const std::string& location) {
  HttpResponse r;
  r.status = status;
  r.headers.Set("Location", location);
  return r;
}

// The redirect a routing rule's Redirect element asks for.
HttpResponse RuleRedirect(const Json& redirect, const std::string& key, const std::string& prefix,
                          const HttpRequest& request) {
  std::string new_key = key;
  if (auto k = redirect.find("ReplaceKeyWith"); k != redirect.end()) {
    new_key = k->get<std::string>();
  } else if (auto p = redirect.find("ReplaceKeyPrefixWith"); p != redirect.end()) {
    new_key = p->get<std::string>() + key.substr(std::min(prefix.size(), key.size()));
  }
  std::string host = redirect.value("HostName", std::string(request.Host()));
  std::string protocol = redirect.value("Protocol", "http");
  int code = 301;
  if (auto c = redirect.find("HttpRedirectCode"); c != redirect.end()) {
    code = static_cast<int>(ParseInt64(c->get<std::string>()).value_or(301));
  }
  return Redirect(code, protocol + "://" + host + "/" + UrlEncode(new_key, true));
}

// The first routing rule whose condition holds for `key` (and `error_code`, 0 = before lookup).
std::optional<HttpResponse> ApplyRoutingRules(const Json& website, const std::string& key,
                                              int error_code, const HttpRequest& request) {
  for (const auto& rule : website.value("RoutingRules", Json::array())) {
    Json cond = rule.value("Condition", Json::object());
    std::string prefix = cond.value("KeyPrefixEquals", "");
    std::string code = cond.value("HttpErrorCodeReturnedEquals", "");
    if (!StartsWith(key, prefix)) continue;
    // Rules without an error-code condition apply before the lookup, the others after it.
    if (error_code == 0 ? !code.empty() : code != std::to_string(error_code)) continue;
    return RuleRedirect(rule.value("Redirect", Json::object()), key, prefix, request);
  }
  return std::nullopt;
}

Result<HttpResponse> ServeObject(S3Store& s3, const ObjectRecord& rec, int status, bool head) {
  if (auto loc = rec.headers.find("WebsiteRedirectLocation"); loc != rec.headers.end()) {
    return Redirect(301, loc->get<std::string>());
  }
  HttpResponse r;
  r.status = status;
  r.headers.Set("Content-Type", rec.headers.value("ContentType", "binary/octet-stream"));
  r.headers.Set("ETag", QuoteEtag(rec.etag));
  r.headers.Set("Last-Modified", FormatHttpDate(static_cast<double>(rec.last_modified_ms / 1000)));
  for (const char* h : {"CacheControl", "ContentEncoding", "ContentDisposition", "ContentLanguage"}) {
    if (auto it = rec.headers.find(h); it != rec.headers.end() && it->is_string()) {
      std::string name = h;
      name.insert(name.find_first_of("ECDL", 1), "-");  // CacheControl -> Cache-Control
      r.headers.Set(name, it->get<std::string>());
    }
  }
  if (head) {
    r.headers.Set("Content-Length", std::to_string(rec.size));
    return r;
  }
  STRATUS_ASSIGN_OR_RETURN(aws::OperationOutput body, s3.BodyOf(rec));
  if (body.payload_file) {
    r.file = std::move(body.payload_file);
  } else {
    r.body = body.payload.value_or("");
  }
  return r;
}

}  // namespace

HttpResponse ServeWebsite(S3Store& s3, const std::string& bucket, const HttpRequest& request,
                          const std::string& request_id) {
  auto b = s3.GetBucket(bucket);
  if (!b.ok()) {
    return HtmlError(404, "NoSuchBucket", "The specified bucket does not exist", "", request_id);
  }
  auto cfg = b->config.find("website");
  if (cfg == b->config.end() || !cfg->is_object()) {
    return HtmlError(404, "NoSuchWebsiteConfiguration",
                     "The specified bucket does not have a website configuration", "", request_id);
  }
  const Json& website = *cfg;
  if (auto all = website.find("RedirectAllRequestsTo"); all != website.end()) {
    std::string target = all->value("Protocol", "http") + "://" + all->value("HostName", "");
    return Redirect(301, target + request.path);
  }
  bool head = request.method == "HEAD";
  if (request.method != "GET" && !head) {
    return HtmlError(405, "MethodNotAllowed", "The specified method is not allowed against this resource.",
                     "", request_id);
  }
  std::string key = UrlDecode(request.path);
  if (!key.empty() && key.front() == '/') key.erase(0, 1);
  if (auto r = ApplyRoutingRules(website, key, 0, request)) return *r;
  std::string index = website.value("IndexDocument", Json::object()).value("Suffix", "");
  std::string lookup = key;
  if ((lookup.empty() || lookup.back() == '/') && !index.empty()) lookup += index;
  auto found = s3.FindObject(bucket, lookup);
  if (found.ok() && found->has_value()) {
    auto served = ServeObject(s3, **found, 200, head);
    if (served.ok()) return *served;
  }
  // "dir" without its slash: redirect to "dir/" when it has an index document.
  if (!key.empty() && key.back() != '/' && !index.empty()) {
    auto dir = s3.FindObject(bucket, key + "/" + index);
    if (dir.ok() && dir->has_value()) return Redirect(302, "/" + UrlEncode(key, true) + "/");
  }
  if (auto r = ApplyRoutingRules(website, key, 404, request)) return *r;
  std::string error_doc = website.value("ErrorDocument", Json::object()).value("Key", "");
  if (!error_doc.empty()) {
    auto doc = s3.FindObject(bucket, error_doc);
    if (doc.ok() && doc->has_value()) {
      auto served = ServeObject(s3, **doc, 404, head);
      if (served.ok()) return *served;
    }
  }
  return HtmlError(404, "NoSuchKey", "The specified key does not exist.", lookup, request_id);
}

}  // namespace stratus::services::s3
